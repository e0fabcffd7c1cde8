/**
 * Report stage (run it in `post { always }`): mails, status page, JUnit XML; the SMTP password comes
 * from a Secret text credential. Then hands the run dir, the JUnit XML and the status page to Jenkins.
 */
def call(Map config = [:]) {
    String id = config.containsKey('smtpCredentialsId') ? config.smtpCredentialsId : 'patchline-smtp'
    List bindings = id ? [string(credentialsId: id, variable: 'PATCHLINE_SMTP_PASSWORD')] : []
    String runDir = config.runDir ?: 'patchline-run'
    catchError(buildResult: 'FAILURE', stageResult: 'FAILURE') {
        patchlineStep(config + [step: 'report', credentials: bindings, runDir: runDir])
    }
    archiveArtifacts(artifacts: "${runDir}/**", allowEmptyArchive: true)
    junit(testResults: "${runDir}/report/junit.xml", allowEmptyResults: true)
    try {
        publishHTML(target: [reportDir: "${runDir}/report", reportFiles: 'status.html', reportName: 'patchline status', keepAll: true, allowMissing: true, alwaysLinkToLastBuild: true])
    } catch (NoSuchMethodError ignored) {
        echo 'patchline: the HTML Publisher plugin is not installed: the status page is in the archived artifacts'
    }
}
