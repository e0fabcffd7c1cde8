/** Publish stage: createrepo_c + rsync of the built RPMs (rsync over ssh uses the agent's ssh setup). */
def call(Map config = [:]) {
    return patchlineStep(config + [step: 'publish', credentials: []])
}
