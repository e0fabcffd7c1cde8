/** Build stage: Koji or local rpmbuild; the Koji client certificate (PEM, cert + key) comes from a Secret file credential. */
def call(Map config = [:]) {
    String id = config.containsKey('kojiCredentialsId') ? config.kojiCredentialsId : 'patchline-koji-cert'
    List bindings = id ? [file(credentialsId: id, variable: 'PATCHLINE_KOJI_CERT')] : []
    return patchlineStep(config + [step: 'build', credentials: bindings])
}
