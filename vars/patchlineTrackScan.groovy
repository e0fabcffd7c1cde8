/**
 * Upstream tracking stage (`patchline track scan`): new upstream commits of every enabled tracking
 * item become patches on a patch-tracking/ branch of its packaging repo and a review series on the
 * list. Uses `git`/`gitHttps` (fetch upstream, push the branch) and `smtp` (the review mails) when
 * the call names them.
 */
def call(Map config = [:]) {
    return patchlineStep(config + [step: 'track-scan', uses: ['git', 'gitHttps', 'smtp']])
}
