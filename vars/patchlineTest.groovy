/** Test stage: rpmlint, NVR order, install into a throwaway root, file conflicts and the repos' test commands (bubblewrap sandbox); no credentials. */
def call(Map config = [:]) {
    return patchlineStep(config + [step: 'test', uses: []])
}
