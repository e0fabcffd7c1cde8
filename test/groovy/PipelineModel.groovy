/**
 * The declarative `pipeline {}` block, read the way Jenkins reads it: sections and directives
 * recorded, stage and post bodies kept as closures to run later against the step stubs.
 */
class PipelineModel {
    Object agent
    List<Map> options = []
    List<Map> triggers = []
    List<Map> parameters = []
    List<Stage> stages = []
    Map<String, Closure> post = [:]

    static class Stage {
        String name
        Closure steps
        /** `when { expression { ... } }`: the stage runs only when every expression is true. */
        List<Closure> when = []
    }

    /** The conditions of a `when` block (only `expression` is used by vars/). */
    static class When {
        final List<Closure> expressions = []

        void expression(Closure body) { expressions << body }
    }

    static PipelineModel parse(Closure body) {
        PipelineModel model = new PipelineModel()
        delegateTo(body, new Sections(model))
        return model
    }

    static Object delegateTo(Closure body, Object delegate) {
        body.resolveStrategy = Closure.DELEGATE_FIRST
        body.delegate = delegate
        return body.call()
    }

    static List<Map> directives(Closure body) {
        PipelineDirectives d = new PipelineDirectives()
        delegateTo(body, d)
        return d.items
    }

    static class Sections {
        final PipelineModel model

        Sections(PipelineModel model) {
            this.model = model
        }

        String getAny() { 'any' }

        void agent(Object value) { model.agent = value instanceof Closure ? directives(value as Closure) : value }

        void options(Closure body) { model.options.addAll(directives(body)) }

        void triggers(Closure body) { model.triggers.addAll(directives(body)) }

        void parameters(Closure body) { model.parameters.addAll(directives(body)) }

        void stages(Closure body) { delegateTo(body, new Stages(model)) }

        void post(Closure body) { delegateTo(body, new Post(model)) }
    }

    static class Stages {
        final PipelineModel model

        Stages(PipelineModel model) {
            this.model = model
        }

        void stage(String name, Closure body) {
            Stage stage = new Stage(name: name)
            delegateTo(body, new StageBody(stage))
            model.stages << stage
        }
    }

    static class StageBody {
        final Stage stage

        StageBody(Stage stage) {
            this.stage = stage
        }

        void steps(Closure body) { stage.steps = body }

        void when(Closure body) {
            When w = new When()
            delegateTo(body, w)
            stage.when.addAll(w.expressions)
        }
    }

    static class Post {
        final PipelineModel model

        Post(PipelineModel model) {
            this.model = model
        }

        void always(Closure body) { model.post.always = body }

        void success(Closure body) { model.post.success = body }

        void failure(Closure body) { model.post.failure = body }

        void unstable(Closure body) { model.post.unstable = body }
    }
}
