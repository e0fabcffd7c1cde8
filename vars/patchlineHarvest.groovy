/** Harvest stage: reads the mail sources; the IMAP password comes from a Secret text credential. */
def call(Map config = [:]) {
    String id = config.containsKey('imapCredentialsId') ? config.imapCredentialsId : 'patchline-imap'
    List bindings = id ? [string(credentialsId: id, variable: 'PATCHLINE_IMAP_PASSWORD')] : []
    return patchlineStep(config + [step: 'harvest', credentials: bindings])
}
