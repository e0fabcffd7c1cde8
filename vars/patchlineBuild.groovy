/** Build stage: Koji or local rpmbuild; Koji's client certificate and CA come from the `kojiCert` and `kojiCa` secret files when the call names them. */
def call(Map config = [:]) {
    return patchlineStep(config + [step: 'build', uses: ['kojiCert', 'kojiCa']])
}
