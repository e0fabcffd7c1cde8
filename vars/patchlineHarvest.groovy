/** Harvest stage: reads the mail sources; an IMAP source logs in with the `imap` credential when the call names it. */
def call(Map config = [:]) {
    return patchlineStep(config + [step: 'harvest', uses: ['imap']])
}
