/**
 * Report stage (run it in `post { always }`): mails, status page, JUnit XML. Then hands the run
 * dir, the JUnit XML and the status page to Jenkins, also when the report itself failed.
 * Uses `smtp` (sending), `imap` (report.deliveryCheck reads the list's mailbox) and `rsync`
 * (the status page published beside the repos) when the call names them.
 */
def call(Map config = [:]) {
    String runDir = patchlineStep.runDirOf(config)
    catchError(buildResult: 'FAILURE', stageResult: 'FAILURE') {
        patchlineStep(config + [step: 'report', uses: ['smtp', 'imap', 'rsync']])
    }
    // from inside the run dir: the artifacts keep the run dir's layout, so the page's relative links work there
    dir(runDir) {
        archiveArtifacts(artifacts: '**', allowEmptyArchive: true)
        junit(testResults: 'report/junit.xml', allowEmptyResults: true)
        try {
            publishHTML(target: [reportDir: 'report', reportFiles: 'status.html', reportName: 'patchline status', keepAll: true, allowMissing: true, alwaysLinkToLastBuild: true])
        } catch (NoSuchMethodError ignored) {
            echo 'patchline: the HTML Publisher plugin is not installed: the status page is in the archived artifacts (report/status.html)'
        }
    }
}
