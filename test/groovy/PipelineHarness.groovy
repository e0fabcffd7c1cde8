/**
 * A stand-in for Jenkins good enough to run vars/ and the Jenkinsfile under plain Groovy 2.4: every
 * pipeline step the library uses is a stub that records its call; a step it does not know fails
 * (MissingMethodException), so a var cannot start using a step nobody checked.
 */
class PipelineHarness {
    /** Every step call, in order: [step, args...]. */
    List<List> calls = []
    Map<String, String> env = [:]
    Map params = [:]
    /** Files the workspace holds, for fileExists/readFile. */
    Map<String, String> files = [:]
    /** Exit status of `sh(returnStatus: true)` given its script. */
    Closure<Integer> shStatus = { String script -> 0 }
    boolean htmlPublisherInstalled = true
    String result = 'SUCCESS'
    PipelineModel pipeline
    final File root
    final Binding binding = new Binding()
    private final GroovyShell shell
    private final Map<String, Script> vars = [:]

    PipelineHarness(File root) {
        this.root = root
        shell = new GroovyShell(this.class.classLoader, binding)
        binding.setVariable('env', env)
        binding.setVariable('params', params)
        binding.setVariable('scm', [kind: 'scm'])
        stubSteps()
        new File(root, 'vars').listFiles().findAll { it.name.endsWith('.groovy') }.each { File f ->
            String name = f.name - '.groovy'
            Script script = org.codehaus.groovy.runtime.InvokerHelper.createScript(compiled(f), binding)
            vars[name] = script
            binding.setVariable(name, { Map config = [:] -> script.invokeMethod('call', config) })
        }
    }

    /** Compiled once per JVM: each case gets fresh script instances on its own binding. */
    private static final Map<String, Class> COMPILED = [:]

    private Class compiled(File f) {
        return COMPILED.computeIfAbsent(f.path) { shell.classLoader.parseClass(f) }
    }

    /** The secret value withCredentials puts in a variable: distinctive, so a leak is easy to find. */
    static String secretValue(String variable) {
        return "s3cret-value-of-${variable}".toString()
    }

    void record(String step, Object... args) {
        calls << ([step] + args.toList())
    }

    List<List> callsOf(String step) {
        return calls.findAll { it[0] == step }
    }

    Object callVar(String name, Map config = [:]) {
        return vars[name].invokeMethod('call', config)
    }

    /** Evaluate the Jenkinsfile (or a var that declares `pipeline {}`): the model lands in `pipeline`. */
    Object evaluateJenkinsfile() {
        return org.codehaus.groovy.runtime.InvokerHelper.createScript(compiled(new File(root, 'Jenkinsfile')), binding).run()
    }

    /** Run the declared pipeline as Jenkins would: stages in order until one fails, then `post`. */
    void runPipeline() {
        for (PipelineModel.Stage stage in pipeline.stages) {
            if (result == 'FAILURE') {
                record('skipped stage', stage.name)
                continue
            }
            record('stage', stage.name)
            try {
                stage.steps.call()
            } catch (PipelineFailure failure) {
                result = 'FAILURE'
            }
        }
        pipeline.post['always']?.call()
    }

    private void withVariables(Map<String, String> values, Closure body) {
        Map<String, String> saved = new LinkedHashMap<>(env)
        env.putAll(values)
        try {
            body.call()
        } finally {
            env.clear()
            env.putAll(saved)
        }
    }

    private void stub(String step, Closure body) {
        binding.setVariable(step, body)
    }

    private void stubSteps() {
        stub('sh') { arg ->
            record('sh', arg)
            if (arg instanceof Map && arg.returnStatus) {
                return shStatus.call(arg.script as String)
            }
            return null
        }
        stub('echo') { String message -> record('echo', message) }
        stub('error') { String message ->
            record('error', message)
            throw new PipelineFailure(message)
        }
        stub('unstable') { String message ->
            record('unstable', message)
            if (result == 'SUCCESS') result = 'UNSTABLE'
        }
        stub('withEnv') { List<String> entries, Closure body ->
            record('withEnv', entries.collect { it.toString() })
            withVariables(entries.collectEntries { String kv -> int i = kv.indexOf('='); [(kv.substring(0, i)): kv.substring(i + 1)] }, body)
        }
        stub('withCredentials') { List bindings, Closure body ->
            record('withCredentials', bindings)
            Map<String, String> secrets = [:]
            bindings.each { Map b -> b.findAll { k, v -> k.toString().endsWith('ariable') }.each { k, v -> secrets[v as String] = secretValue(v as String) } }
            withVariables(secrets, body)
        }
        stub('string') { Map m -> [kind: 'string'] + m }
        stub('file') { Map m -> [kind: 'file'] + m }
        stub('usernamePassword') { Map m -> [kind: 'usernamePassword'] + m }
        stub('fileExists') { String path ->
            record('fileExists', path)
            return files.containsKey(path)
        }
        stub('readFile') { arg ->
            String path = arg instanceof Map ? arg.file : arg
            record('readFile', path)
            if (!files.containsKey(path)) throw new PipelineFailure("readFile: no such file ${path}")
            return files[path]
        }
        stub('writeFile') { Map m ->
            record('writeFile', m)
            files[m.file as String] = m.text as String
        }
        stub('libraryResource') { String path ->
            record('libraryResource', path)
            return new File(root, "resources/${path}").text
        }
        stub('junit') { Map m -> record('junit', m) }
        stub('archiveArtifacts') { Map m -> record('archiveArtifacts', m) }
        stub('publishHTML') { Map m ->
            if (!htmlPublisherInstalled) throw new NoSuchMethodError("No such DSL method 'publishHTML' found among steps")
            record('publishHTML', m)
        }
        stub('dir') { String path, Closure body ->
            record('dir', path)
            body.call()
        }
        stub('deleteDir') { -> record('deleteDir') }
        stub('stage') { String name, Closure body ->
            record('stage', name)
            body.call()
        }
        stub('catchError') { Map m, Closure body ->
            record('catchError', m)
            try {
                body.call()
            } catch (PipelineFailure failure) {
                result = m.buildResult ?: 'FAILURE'
            }
        }
        stub('library') { Map m -> record('library', m) }
        stub('legacySCM') { scm -> [retriever: 'legacySCM', scm: scm] }
        stub('pipeline') { Closure body ->
            pipeline = PipelineModel.parse(body)
            record('pipeline')
        }
    }
}
