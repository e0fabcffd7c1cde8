/**
 * Upstream continuous packaging stage (`patchline upstream run`): every new upstream commit of the
 * configured projects built, a repo per commit, current/consistent moved, failures bisected and
 * mailed. Then hands the run's JUnit XML (one case per project and platform) and logs to Jenkins,
 * also when the run failed.
 * Uses `git`/`gitHttps` (private upstream or dist-git), `kojiCert`/`kojiCa` (Koji platforms),
 * `rsync` (a remote publish destination) and `smtp` (the mails) when the call names them.
 */
def call(Map config = [:]) {
    String runDir = patchlineStep.runDirOf(config, 'upstream')
    try {
        return patchlineStep(config + [step: 'upstream', uses: ['git', 'gitHttps', 'kojiCert', 'kojiCa', 'rsync', 'smtp']])
    } finally {
        dir(runDir) {
            archiveArtifacts(artifacts: '*.log,*.xml,*.json,build/**/*.log', allowEmptyArchive: true)
            junit(testResults: 'junit.xml', allowEmptyResults: true)
        }
    }
}
