/** What `error` throws: the build fails. */
class PipelineFailure extends RuntimeException {
    PipelineFailure(String message) {
        super(message)
    }
}
