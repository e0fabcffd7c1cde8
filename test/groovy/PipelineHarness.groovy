import java.nio.file.FileSystems
import java.nio.file.PathMatcher

/**
 * A stand-in for Jenkins good enough to run vars/ and the Jenkinsfile under plain Groovy 2.4, with
 * the steps the library uses behaving as Jenkins' do where it matters:
 * - `sh` runs its script for real, as durable-task does: `sh -xe script.sh > log 2>&1` in the
 *   current directory, the log read as it grows into the console (so the order and the moment lines
 *   arrive are what a Jenkins console shows); returnStatus or "script returned exit code N";
 * - withEnv (with PATH+X), withCredentials (secret files written and removed, git askpass script)
 *   and sshagent set what the real ones set; dir() changes the directory sh, readFile and the
 *   archivers work in; junit marks the build UNSTABLE for failed tests;
 * - error/unstable/catchError and a declarative run (stages until one fails, then post, then the
 *   "ERROR: ..." line and "Finished: RESULT") set the build result and console as Jenkins does.
 * On PATH is a fake `patchline` (fake-bin/) that records its arguments and the credentials it saw.
 * A step the harness does not know fails (MissingMethodException), so a var cannot start using a
 * step nobody checked.
 */
class PipelineHarness {
    /** The options each real patchline subcommand takes ("<step> <option> <takes a value 0|1>" lines, from groovy.test.ts). */
    static File optionsFile
    /** Every step call, in order: [step, args...]. */
    List<List> calls = []
    /** The build's console: sh output, echo, WARNING/ERROR lines, as they come. */
    List<String> console = []
    /** Called with each console line as it arrives (while its sh still runs). */
    Closure onConsoleLine = null
    Map<String, String> env = [:]
    Map params = [:]
    boolean htmlPublisherInstalled = true
    String result = 'SUCCESS'
    PipelineModel pipeline
    final File root
    /** A fresh dir per harness: the workspace, the state dir outside it, the fake's case dir, the agent's bin dir. */
    final File home
    final File workspace
    final File stateDir
    final File caseDir
    final File binDir
    /** 2026-11-21T02:03:04Z: the run id of this build is 20261121T020304Z. */
    final long startTimeInMillis = Date.parse("yyyy-MM-dd'T'HH:mm:ssX", '2026-11-21T02:03:04Z').time
    final Binding binding = new Binding()
    private final GroovyShell shell
    private final Map<String, Script> vars = [:]
    private final List<File> dirs = []
    private int shCount = 0

    PipelineHarness(File root, boolean patchlineInstalled = true) {
        this.root = root
        home = File.createTempDir('pl-jenkins-', '')
        workspace = mkdir(new File(home, 'workspace/team/patchline'))
        stateDir = mkdir(new File(home, 'state'))
        caseDir = mkdir(new File(home, 'case'))
        binDir = mkdir(new File(home, 'agent-bin'))
        install('npm')
        if (patchlineInstalled) {
            install('patchline')
        }
        dirs << workspace
        env.putAll([
            PATH                 : "${binDir}:/usr/local/bin:/usr/bin:/bin".toString(),
            HOME                 : home.path,
            LANG                 : 'C.UTF-8',
            WORKSPACE            : workspace.path,
            JOB_NAME             : 'team/patchline',
            BUILD_NUMBER         : '7',
            FAKE_PATCHLINE_CASE  : caseDir.path,
            FAKE_PATCHLINE_OPTIONS: optionsFile.path,
            FAKE_PATCHLINE_SOURCE: new File(root, 'test/groovy/fake-bin/patchline').path,
        ])
        shell = new GroovyShell(this.class.classLoader, binding)
        binding.setVariable('env', env)
        binding.setVariable('params', params)
        binding.setVariable('scm', [kind: 'scm'])
        binding.setVariable('currentBuild', [startTimeInMillis: startTimeInMillis])
        stubSteps()
        new File(root, 'vars').listFiles().findAll { it.name.endsWith('.groovy') }.each { File f ->
            String name = f.name - '.groovy'
            Script script = org.codehaus.groovy.runtime.InvokerHelper.createScript(compiled(f), binding)
            vars[name] = script
            // called as name(config), and name.method(...) reaches the var's other methods, as in Jenkins
            Closure var = { Map config = [:] -> script.invokeMethod('call', config) }
            var.delegate = script
            var.resolveStrategy = Closure.DELEGATE_FIRST
            binding.setVariable(name, var)
        }
    }

    private static File mkdir(File d) {
        d.mkdirs()
        return d
    }

    private void install(String name) {
        File f = new File(binDir, name)
        f.text = new File(root, "test/groovy/fake-bin/${name}").text
        f.setExecutable(true)
    }

    /** Compiled once per JVM: each case gets fresh script instances on its own binding. */
    private static final Map<String, Class> COMPILED = [:]

    private Class compiled(File f) {
        return COMPILED.computeIfAbsent(f.path) { shell.classLoader.parseClass(f) }
    }

    /** Write what the fake patchline does for one step (a sh fragment: echo lines, exit N). */
    void fake(String step, String shell) {
        new File(caseDir, "${step}.sh").text = shell
    }

    /** What the fake patchline recorded: one map per call (step, cwd, bin = the path it ran as, args, env = the credentials it saw). */
    List<Map> patchlineCalls() {
        File f = new File(caseDir, 'calls')
        List<Map> out = []
        if (!f.exists()) {
            return out
        }
        Map current = null
        f.eachLine { String line ->
            int sp = line.indexOf(' ')
            String kind = sp < 0 ? line : line.substring(0, sp)
            String rest = sp < 0 ? '' : line.substring(sp + 1)
            if (kind == 'call') {
                current = [step: rest, args: [], env: [:]]
                out << current
            } else if (kind == 'cwd' || kind == 'bin') {
                current[kind] = rest
            } else if (kind == 'arg') {
                current.args.addAll(rest.split(' ', 2) as List)
            } else if (kind == 'env') {
                int i = rest.indexOf(' ')
                current.env[rest.substring(0, i)] = rest.substring(i + 1)
            }
        }
        return out
    }

    /** The secret withCredentials puts in a variable for a credential id: distinctive, so a leak is easy to find. */
    static String secretValue(String id) {
        return "s3cret-of-${id}".toString()
    }

    static String userOf(String id) {
        return "user-of-${id}".toString()
    }

    void record(String step, Object... args) {
        calls << ([step] + args.toList())
    }

    List<List> callsOf(String step) {
        return calls.findAll { it[0] == step }
    }

    Object callVar(String name, Map config = [:]) {
        return binding.getVariable(name).call(config)
    }

    /** Evaluate a Jenkinsfile (this repo's, or the text given): the declared pipeline lands in `pipeline`. */
    Object evaluateJenkinsfile(String text = null, String name = 'Jenkinsfile') {
        if (text == null) {
            return org.codehaus.groovy.runtime.InvokerHelper.createScript(compiled(new File(root, name)), binding).run()
        }
        // `@Library('x') _` is Jenkins' own syntax (an annotated `_`): the same as the library step here
        String groovy = text.replaceAll(/(?m)^@Library\((.*)\)\s+_\s*$/, 'library($1)')
        return shell.parse(groovy).run()
    }

    /** Run the declared pipeline as Jenkins does: stages in order until one fails (the rest skipped), then post, then the ERROR line. */
    void runPipeline() {
        PipelineFailure failed = null
        for (PipelineModel.Stage stage in pipeline.stages) {
            if (failed != null) {
                record('skipped stage', stage.name)
                printLine("Stage \"${stage.name}\" skipped due to earlier failure(s)")
                continue
            }
            if (!stage.when.every { it.call() }) {
                record('skipped stage', stage.name)
                printLine("Stage \"${stage.name}\" skipped due to when conditional")
                continue
            }
            record('stage', stage.name)
            try {
                stage.steps.call()
            } catch (PipelineFailure failure) {
                failed = failure
                result = 'FAILURE'
            }
        }
        try {
            pipeline.post['always']?.call()
        } catch (PipelineFailure failure) {
            failed = failed ?: failure
            result = 'FAILURE'
        }
        if (failed != null) {
            printLine("ERROR: ${failed.message}")
        }
        printLine("Finished: ${result}")
    }

    private void printLine(String line) {
        console << line
        onConsoleLine?.call(line)
    }

    private File currentDir() {
        return dirs[-1]
    }

    private File resolve(String path) {
        File f = new File(path)
        return f.absolute ? f : new File(currentDir(), path)
    }

    private void withVariables(Map<String, String> values, Closure body) {
        Map<String, String> saved = new LinkedHashMap<>(env)
        values.each { String k, String v ->
            if (k.startsWith('PATH+')) {
                env.PATH = "${v}:${env.PATH}".toString()
            } else {
                env[k] = v
            }
        }
        try {
            body.call()
        } finally {
            env.clear()
            env.putAll(saved)
        }
    }

    /** durable-task's way: `sh -xe script.sh > log 2>&1`, the log followed while the process runs. */
    private int runShell(String script) {
        File tmp = mkdir(new File("${workspace.path}@tmp/durable-${++shCount}"))
        File scriptFile = new File(tmp, 'script.sh')
        scriptFile.text = script
        File log = new File(tmp, 'jenkins-log.txt')
        ProcessBuilder pb = new ProcessBuilder('sh', '-xe', scriptFile.path).directory(currentDir()).redirectErrorStream(true).redirectOutput(log)
        pb.environment().clear()
        env.each { k, v -> if (v != null) pb.environment().put(k as String, v as String) }
        Process p = pb.start()
        long offset = 0
        String partial = ''
        Closure drain = {
            RandomAccessFile raf = new RandomAccessFile(log, 'r')
            try {
                raf.seek(offset)
                byte[] buf = new byte[(int) (raf.length() - offset)]
                raf.readFully(buf)
                offset += buf.length
                partial += new String(buf, 'UTF-8')
            } finally {
                raf.close()
            }
            int nl
            while ((nl = partial.indexOf('\n')) >= 0) {
                printLine(partial.substring(0, nl))
                partial = partial.substring(nl + 1)
            }
        }
        while (p.isAlive()) {
            drain()
            Thread.sleep(5)
        }
        int status = p.waitFor()
        drain()
        if (partial) {
            printLine(partial)
        }
        return status
    }

    private void stub(String step, Closure body) {
        binding.setVariable(step, body)
    }

    private void stubSteps() {
        stub('sh') { arg ->
            Map m = arg instanceof Map ? arg : [script: arg]
            record('sh', arg)
            if (!(m.script instanceof String)) {
                throw new IllegalArgumentException("sh got a ${m.script.getClass().simpleName}, not a String: Groovy interpolated it")
            }
            int status = runShell(m.script as String)
            if (m.returnStatus) {
                return status
            }
            if (status != 0) {
                throw new PipelineFailure("script returned exit code ${status}")
            }
            return null
        }
        stub('echo') { String message ->
            record('echo', message)
            printLine(message)
        }
        stub('error') { String message ->
            record('error', message)
            throw new PipelineFailure(message)
        }
        stub('unstable') { String message ->
            record('unstable', message)
            printLine("WARNING: ${message}")
            if (result == 'SUCCESS') result = 'UNSTABLE'
        }
        stub('withEnv') { List entries, Closure body ->
            record('withEnv', entries.collect { it.toString() })
            withVariables(entries.collectEntries { Object e -> String kv = e.toString(); int i = kv.indexOf('='); [(kv.substring(0, i)): kv.substring(i + 1)] }, body)
        }
        stub('withCredentials') { List bindings, Closure body ->
            record('withCredentials', bindings)
            Map<String, String> values = [:]
            File secrets = mkdir(new File("${workspace.path}@tmp/secretFiles/${UUID.randomUUID()}"))
            bindings.each { Map b ->
                String id = b.credentialsId
                if (b.kind == 'usernamePassword') {
                    values[b.usernameVariable as String] = userOf(id)
                    values[b.passwordVariable as String] = secretValue(id)
                } else if (b.kind == 'file') {
                    File f = new File(secrets, id)
                    f.text = secretValue(id)
                    values[b.variable as String] = f.path
                } else if (b.kind == 'string') {
                    values[b.variable as String] = secretValue(id)
                } else if (b.kind == 'gitUsernamePassword') {
                    // as the Git plugin's binding: an askpass script answering from GIT_USERNAME/GIT_PASSWORD
                    File askpass = new File(secrets, 'askpass.sh')
                    askpass.text = '#!/bin/sh\ncase "$1" in\nUsername*) echo "$GIT_USERNAME" ;;\nPassword*) echo "$GIT_PASSWORD" ;;\nesac\n'
                    askpass.setExecutable(true)
                    values.GIT_ASKPASS = askpass.path
                    values.GIT_USERNAME = userOf(id)
                    values.GIT_PASSWORD = secretValue(id)
                    values.GIT_TERMINAL_PROMPT = 'false'
                } else {
                    throw new IllegalArgumentException("withCredentials: unknown binding ${b}")
                }
            }
            try {
                withVariables(values, body)
            } finally {
                secrets.deleteDir()
            }
        }
        stub('sshagent') { Map m, Closure body ->
            record('sshagent', m.credentials)
            // what ssh-agent gives: a socket in the agent's temp dir; beside it, which keys it holds
            File sock = new File(mkdir(new File("${workspace.path}@tmp/ssh-agent-${UUID.randomUUID()}")), 'agent.sock')
            sock.text = ''
            new File(sock.path + '.keys').text = (m.credentials as List).join(',')
            try {
                withVariables([SSH_AUTH_SOCK: sock.path, SSH_AGENT_PID: '4242'], body)
            } finally {
                sock.parentFile.deleteDir()
            }
        }
        stub('string') { Map m -> [kind: 'string'] + m }
        stub('file') { Map m -> [kind: 'file'] + m }
        stub('usernamePassword') { Map m -> [kind: 'usernamePassword'] + m }
        stub('gitUsernamePassword') { Map m -> [kind: 'gitUsernamePassword'] + m }
        stub('fileExists') { String path ->
            record('fileExists', path)
            return resolve(path).exists()
        }
        stub('readFile') { arg ->
            String path = arg instanceof Map ? arg.file : arg
            record('readFile', path)
            File f = resolve(path)
            if (!f.exists()) throw new PipelineFailure("readFile: no such file ${path}")
            return f.getText('UTF-8')
        }
        stub('writeFile') { Map m ->
            record('writeFile', m)
            resolve(m.file as String).text = m.text as String
        }
        stub('junit') { Map m ->
            File f = resolve(m.testResults as String)
            record('junit', m, currentDir().path)
            if (!f.exists()) {
                if (!m.allowEmptyResults) throw new PipelineFailure("No test report files were found: ${m.testResults}")
                return
            }
            def failures = (f.text =~ /<testsuites[^>]* failures="(\d+)"/)
            if (failures.find() && (failures.group(1) as int) > 0 && result == 'SUCCESS') result = 'UNSTABLE'
        }
        stub('archiveArtifacts') { Map m ->
            PathMatcher matcher = FileSystems.default.getPathMatcher("glob:${m.artifacts}")
            File base = currentDir()
            List<String> found = []
            base.eachFileRecurse(groovy.io.FileType.FILES) { File f ->
                java.nio.file.Path rel = base.toPath().relativize(f.toPath())
                if (matcher.matches(rel)) found << rel.toString()
            }
            if (!found && !m.allowEmptyArchive) throw new PipelineFailure("No artifacts found that match the file pattern \"${m.artifacts}\"")
            record('archiveArtifacts', m, base.path, found.sort())
        }
        stub('publishHTML') { Map m ->
            if (!htmlPublisherInstalled) throw new NoSuchMethodError("No such DSL method 'publishHTML' found among steps")
            record('publishHTML', m, currentDir().path)
        }
        stub('dir') { String path, Closure body ->
            File d = mkdir(resolve(path))
            record('dir', path)
            dirs << d
            try {
                body.call()
            } finally {
                dirs.remove(dirs.size() - 1)
            }
        }
        stub('deleteDir') { ->
            record('deleteDir')
            currentDir().deleteDir()
        }
        stub('script') { Closure body -> body.call() }
        stub('catchError') { Map m, Closure body ->
            record('catchError', m)
            try {
                body.call()
            } catch (PipelineFailure failure) {
                printLine("ERROR: ${failure.message}")
                result = m.buildResult ?: 'FAILURE'
            }
        }
        stub('library') { arg -> record('library', arg) }
        stub('legacySCM') { scm -> [retriever: 'legacySCM', scm: scm] }
        stub('modernSCM') { Map m -> [retriever: 'modernSCM'] + m }
        stub('pipeline') { Closure body ->
            pipeline = PipelineModel.parse(body)
            record('pipeline')
        }
    }
}
