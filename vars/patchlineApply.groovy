/** Apply stage: git am onto the configured repos and push, with the `git` ssh key or the `gitHttps` login when the call names them. */
def call(Map config = [:]) {
    return patchlineStep(config + [step: 'apply', uses: ['git', 'gitHttps']])
}
