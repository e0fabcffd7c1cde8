/** Publish stage: createrepo_c + rsync of the built RPMs; rsync over ssh uses the `rsync` ssh key when the call names it. */
def call(Map config = [:]) {
    return patchlineStep(config + [step: 'publish', uses: ['rsync']])
}
