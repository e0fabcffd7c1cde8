/** Directives inside options/triggers/parameters/agent of a declarative pipeline: each call recorded as [name:, args:]. */
class PipelineDirectives {
    List<Map> items = []

    def methodMissing(String name, Object args) {
        Map item = [name: name, args: (args as Object[]).toList()]
        items << item
        return item
    }
}
