/** Apply stage: git am onto the configured repos and push (push access comes from the agent's git setup). */
def call(Map config = [:]) {
    return patchlineStep(config + [step: 'apply', credentials: []])
}
