/**
 * The Groovy tests of vars/ and the Jenkinsfile, all in one JVM (groovy starts slowly). Each var's
 * shell runs for real under `sh -xe` against a fake `patchline` (fake-bin/) on the agent's PATH.
 * Usage: groovy -cp test/groovy test/groovy/run-tests.groovy <repo root> <patchline options file>
 * Prints one line per case: PASS<TAB>name or FAIL<TAB>name<TAB>why; exits 1 if any failed.
 */
File root = new File(args[0]).canonicalFile
PipelineHarness.optionsFile = new File(args[1])
int failures = 0
Map<String, Closure> cases = [:]
def test = { String name, Closure body -> cases[name] = body }
List<PipelineHarness> made = []
Closure<PipelineHarness> harness = { boolean installed = true ->
    PipelineHarness h = new PipelineHarness(root, installed)
    made << h
    return h
}

String RUN_ID = '20261121T020304Z'
/** Every credential the library knows, named by a team. */
Map CREDS = [imap: 'team-imap', smtp: 'team-smtp', kojiCert: 'team-koji-cert', kojiCa: 'team-koji-ca', git: 'team-git-key', gitHttps: 'team-git-https', rsync: 'team-rsync-key']
String secret(String id) { PipelineHarness.secretValue(id) }
String user(String id) { PipelineHarness.userOf(id) }
/** What patchline sees of each credential (the fake's record): passwords by value, files by content, the ssh-agent's keys, the askpass answers. */
Map SEEN = [
    imap    : [PATCHLINE_IMAP_USER: user('team-imap'), PATCHLINE_IMAP_PASSWORD: secret('team-imap')],
    smtp    : [PATCHLINE_SMTP_USER: user('team-smtp'), PATCHLINE_SMTP_PASSWORD: secret('team-smtp')],
    kojiCert: [PATCHLINE_KOJI_CERT: 'file:' + secret('team-koji-cert')],
    kojiCa  : [PATCHLINE_KOJI_SERVERCA: 'file:' + secret('team-koji-ca')],
    gitHttps: [GIT_ASKPASS: "askpass:${user('team-git-https')}/${secret('team-git-https')}".toString()],
]
Map<String, Map> STAGE_VARS = [
    patchlineHarvest: [step: 'harvest', sees: SEEN.imap],
    patchlineApply  : [step: 'apply', sees: [SSH_AUTH_SOCK: 'keys:team-git-key'] + SEEN.gitHttps],
    patchlineBuild  : [step: 'build', sees: SEEN.kojiCert + SEEN.kojiCa],
    patchlineTest   : [step: 'test', sees: [:]],
    patchlinePublish: [step: 'publish', sees: [SSH_AUTH_SOCK: 'keys:team-rsync-key']],
    patchlineReport : [step: 'report', sees: SEEN.smtp + SEEN.imap + [SSH_AUTH_SOCK: 'keys:team-rsync-key']],
]
List<String> STEPS = ['harvest', 'apply', 'build', 'test', 'publish', 'report']

// closures, not methods: Groovy 2.4 cannot name the classes of a method's GStrings in a script called run-tests
Closure<Map> settings = { PipelineHarness h, Map extra = [:] -> [config: 'patchline.yaml', stateDir: h.stateDir.path] + extra }
Closure<String> runDir = { PipelineHarness h -> h.stateDir.path + '/runs/' + RUN_ID }
Closure<List> baseArgs = { PipelineHarness h, String config = 'patchline.yaml' -> ['--config', config, '--state-dir', h.stateDir.path, '--run-dir', runDir(h)] }

/** Call a var that is expected to fail the build: the error's message. */
String failure(Closure body) {
    try {
        body()
    } catch (PipelineFailure f) {
        return f.message
    }
    assert false, 'the var did not fail'
}

/* ------------------------------------------------------------------ each stage var, for real */

STAGE_VARS.each { String var, Map expected ->
    test("${var}: runs the installed `patchline ${expected.step}` with exactly its options; it sees the credentials this stage uses, and no other") {
        PipelineHarness h = harness()
        Object code = h.callVar(var, settings(h, [config: 'conf/patchline.yaml', credentials: CREDS]))
        assert code == 0 || var == 'patchlineReport'
        List calls = h.patchlineCalls()
        assert calls.size() == 1
        assert calls[0].step == expected.step
        assert calls[0].args == baseArgs(h, 'conf/patchline.yaml')
        assert calls[0].cwd == h.workspace.path
        assert calls[0].env == expected.sees
        assert h.callsOf('sh')[0][1].returnStatus == true
        assert h.callsOf('sh')[0][1].label == "patchline ${expected.step}".toString()
        assert h.result == 'SUCCESS'
    }
}

test('no credential named (an mbox source, local builds, no SMTP): nothing is bound, patchline sees none, no credential id is needed') {
    PipelineHarness h = harness()
    STAGE_VARS.keySet().each { h.callVar(it, settings(h)) }
    assert h.patchlineCalls()*.step == STEPS
    assert h.patchlineCalls().every { it.env == [:] }
    assert h.callsOf('withCredentials').every { it[1] == [] }
    assert h.callsOf('sshagent').isEmpty()
    assert h.result == 'SUCCESS'
}

test('credentials are bound with the kind the docs name: usernamePassword, file, sshagent, gitUsernamePassword') {
    PipelineHarness h = harness()
    STAGE_VARS.keySet().each { h.callVar(it, settings(h, [credentials: CREDS])) }
    assert h.callsOf('withCredentials').collect { it[1] } == [
        [[kind: 'usernamePassword', credentialsId: 'team-imap', usernameVariable: 'PATCHLINE_IMAP_USER', passwordVariable: 'PATCHLINE_IMAP_PASSWORD']],
        [[kind: 'gitUsernamePassword', credentialsId: 'team-git-https', gitToolName: 'Default']],
        [[kind: 'file', credentialsId: 'team-koji-cert', variable: 'PATCHLINE_KOJI_CERT'], [kind: 'file', credentialsId: 'team-koji-ca', variable: 'PATCHLINE_KOJI_SERVERCA']],
        [],
        [],
        [[kind: 'usernamePassword', credentialsId: 'team-imap', usernameVariable: 'PATCHLINE_IMAP_USER', passwordVariable: 'PATCHLINE_IMAP_PASSWORD'],
         [kind: 'usernamePassword', credentialsId: 'team-smtp', usernameVariable: 'PATCHLINE_SMTP_USER', passwordVariable: 'PATCHLINE_SMTP_PASSWORD']],
    ]
    assert h.callsOf('sshagent').collect { it[1] } == [['team-git-key'], ['team-rsync-key'], ['team-rsync-key']]
}

test('only the credentials named are bound: a team with IMAP and a Koji certificate only') {
    PipelineHarness h = harness()
    STAGE_VARS.keySet().each { h.callVar(it, settings(h, [credentials: [imap: 'list', kojiCert: 'koji-pem']])) }
    assert h.patchlineCalls().collect { [it.step, it.env.keySet() as List] } == [
        ['harvest', ['PATCHLINE_IMAP_USER', 'PATCHLINE_IMAP_PASSWORD']], ['apply', []], ['build', ['PATCHLINE_KOJI_CERT']], ['test', []], ['publish', []], ['report', ['PATCHLINE_IMAP_USER', 'PATCHLINE_IMAP_PASSWORD']]]
    assert h.callsOf('sshagent').isEmpty()
}

test('a credential name the library does not know is refused before anything runs') {
    PipelineHarness h = harness()
    String message = failure { h.callVar('patchlineHarvest', settings(h, [credentials: [imapCredentialsId: 'x']])) }
    assert message.startsWith("patchline: unknown credential 'imapCredentialsId' (known: imap, smtp, kojiCert, kojiCa, git, gitHttps, rsync")
    assert h.callsOf('sh').isEmpty()
}

test('secrets: never in an sh script, never on the console, not even with every credential bound') {
    PipelineHarness h = harness()
    STAGE_VARS.keySet().each { h.callVar(it, settings(h, [credentials: CREDS])) }
    List<String> scripts = h.callsOf('sh').collect { it[1].script }
    CREDS.values().each { String id ->
        scripts.each { assert !it.contains(secret(id)) }
        h.console.each { assert !it.contains(secret(id)) }
    }
    assert h.patchlineCalls().size() == 6
}

test('secrets: no double-quoted (interpolating) string in vars/ or the Jenkinsfiles mentions a secret variable') {
    List<File> sources = new File(root, 'vars').listFiles().findAll { it.name.endsWith('.groovy') } + [new File(root, 'Jenkinsfile'), new File(root, 'Jenkinsfile.upstream')]
    sources.each { File f ->
        f.text.findAll(/"(?:[^"\\]|\\.)*"/).each { String literal ->
            assert !(literal =~ /PASSWORD|KOJI_CERT|SERVERCA|TOKEN|SSH_AUTH/), "${f.name}: ${literal}"
        }
    }
}

test('patchlineBuild: a per-branch scratch dry run passes exactly --repo, --branch, --dry-run, --scratch; other steps get no --scratch') {
    PipelineHarness h = harness()
    Map per = settings(h, [repo: 'hello', branch: 'stable-2.1', dryRun: true, scratch: true])
    assert h.callVar('patchlineBuild', per) == 0
    assert h.callVar('patchlineHarvest', per) == 0
    assert h.patchlineCalls()*.args == [baseArgs(h) + ['--repo', 'hello', '--branch', 'stable-2.1', '--dry-run', '--scratch'], baseArgs(h) + ['--repo', 'hello', '--branch', 'stable-2.1', '--dry-run']]
}

test('hostile parameter values reach patchline as one argument each, through env vars, never through the script text') {
    PipelineHarness h = harness()
    String hostile = 'x"; rm -rf / #$(id)`id`'
    h.callVar('patchlineApply', settings(h, [repo: hostile, branch: hostile]))
    String script = h.callsOf('sh')[0][1].script
    assert !script.contains(hostile) && !script.contains('rm -rf')
    assert h.patchlineCalls()[0].args == baseArgs(h) + ['--repo', hostile, '--branch', hostile]
}

/* ------------------------------------------------------------------ the console and the build result */

test('output streams into the console in the order written (stdout and stderr), and the step\'s one-line error is the last line') {
    PipelineHarness h = harness()
    h.fake('harvest', '''echo 'harvest: reading list (stdout)'
echo 'harvest: list: 3 new mails (stderr)' >&2
echo 'harvest: 1 series ready (stdout)'
echo 'patchline: ECONFIG sources.0.host: required [patchline.yaml]' >&2
exit 2
''')
    String message = failure { h.callVar('patchlineHarvest', settings(h)) }
    assert h.console == ['+ set +x', 'harvest: reading list (stdout)', 'harvest: list: 3 new mails (stderr)', 'harvest: 1 series ready (stdout)', 'patchline: ECONFIG sources.0.host: required [patchline.yaml]']
    assert message == 'patchline harvest failed (exit 2): patchline: ECONFIG sources.0.host: required [patchline.yaml]'
    assert new File(runDir(h), 'harvest.log').text == h.console.drop(1).join('\n') + '\n'
}

test('output is live: a line reaches the console while the step still runs (a long Koji wait)') {
    PipelineHarness h = harness()
    File released = new File(h.caseDir, 'released')
    h.onConsoleLine = { String line -> if (line == 'koji: watching task 42') released.text = 'seen' }
    // the fake waits until the harness has seen its line on the console, at most 5 s (patchline's progress goes to stderr)
    h.fake('build', '''echo 'koji: watching task 42' >&2
i=0
while [ ! -f "$FAKE_PATCHLINE_CASE/released" ]; do
  i=$((i + 1))
  if [ $i -gt 100 ]; then echo 'patchline: EKOJI nobody saw the output while the task ran' >&2; exit 1; fi
  sleep 0.05
done
echo 'koji: task 42 closed'
''')
    assert h.callVar('patchlineBuild', settings(h)) == 0
    assert h.console.containsAll(['koji: watching task 42', 'koji: task 42 closed'])
}

test('exit 3: the build is UNSTABLE with the step\'s last line, and the var returns (the next stage runs)') {
    PipelineHarness h = harness()
    h.fake('build', '''echo 'building hello on el9, f40'
echo 'patchline: EBUILD hello el9: rpmbuild failed [hello-1.0]' >&2
exit 3
''')
    assert h.callVar('patchlineBuild', settings(h)) == 3
    assert h.callsOf('unstable').collect { it[1] } == ['patchline build: partly failed: patchline: EBUILD hello el9: rpmbuild failed [hello-1.0]']
    assert h.console[-2..-1] == ['patchline: EBUILD hello el9: rpmbuild failed [hello-1.0]', 'WARNING: patchline build: partly failed: patchline: EBUILD hello el9: rpmbuild failed [hello-1.0]']
    assert h.callsOf('error').isEmpty()
    assert h.result == 'UNSTABLE'
}

[1, 2].each { int code ->
    test("exit ${code}: the stage fails with the step's one-line error, which is also the last line the step printed") {
        PipelineHarness h = harness()
        h.fake('apply', """echo 'applying 2 series'
echo 'patchline: EAPPLY series hello/main: patch 2/3 does not apply' >&2
exit ${code}
""")
        assert failure { h.callVar('patchlineApply', settings(h)) } == "patchline apply failed (exit ${code}): patchline: EAPPLY series hello/main: patch 2/3 does not apply".toString()
        assert h.console[-1] == 'patchline: EAPPLY series hello/main: patch 2/3 does not apply'
        assert h.callsOf('unstable').isEmpty()
    }
}

test('patchline not installed on the agent: the stage says so and what to do') {
    PipelineHarness h = harness(false)
    String message = failure { h.callVar('patchlineHarvest', settings(h)) }
    assert message =~ /^patchline harvest: the patchline command is not installed on this agent \(.*patchline: not found\): install it, or give toolDir/
}

test('patchlineStep refuses a step it does not know') {
    PipelineHarness h = harness()
    assert failure { h.callVar('patchlineStep', settings(h, [step: 'rm -rf'])) }.startsWith("patchlineStep: unknown step 'rm -rf'")
    assert h.callsOf('sh').isEmpty()
}

/* ------------------------------------------------------------------ the state dir and the run dir */

test('the state dir: from the call, else the agent\'s PATCHLINE_STATE_DIR; the run dir is <state>/runs/<build start, UTC> for every stage') {
    PipelineHarness h = harness()
    h.env.PATCHLINE_STATE_DIR = h.stateDir.path
    h.callVar('patchlineHarvest', [:])
    h.callVar('patchlineReport', [:])
    assert h.patchlineCalls()*.args == [baseArgs(h), baseArgs(h)]
    assert new File(runDir(h), 'harvest.log').exists()
}

test('the state dir must be given, absolute, and outside the workspace') {
    PipelineHarness h = harness()
    assert failure { h.callVar('patchlineHarvest', [:]) }.startsWith("patchline: no state dir: pass stateDir: '/var/lib/patchline/<team>' or set PATCHLINE_STATE_DIR on the agent")
    assert failure { h.callVar('patchlineHarvest', [stateDir: 'state']) }.startsWith('patchline: the state dir must be an absolute path outside the workspace')
    assert failure { h.callVar('patchlineHarvest', [stateDir: h.workspace.path + '/.patchline']) }.startsWith('patchline: the state dir must be an absolute path outside the workspace')
    assert h.callsOf('sh').isEmpty()
}

/* ------------------------------------------------------------------ report */

test('patchlineReport: report step, then from inside the run dir: archived, JUnit recorded, status page published') {
    PipelineHarness h = harness()
    h.callVar('patchlineReport', settings(h))
    assert h.calls.collect { it[0] }.findAll { it in ['sh', 'archiveArtifacts', 'junit', 'publishHTML'] } == ['sh', 'archiveArtifacts', 'junit', 'publishHTML']
    List archived = h.callsOf('archiveArtifacts')[0]
    assert archived[1] == [artifacts: '**', allowEmptyArchive: true] && archived[2] == runDir(h)
    assert archived[3] == ['report.exit', 'report.log', 'report/junit.xml', 'report/status.html']
    assert h.callsOf('junit')[0][1..2] == [[testResults: 'report/junit.xml', allowEmptyResults: true], runDir(h)]
    assert h.callsOf('publishHTML')[0][1].target.subMap(['reportDir', 'reportFiles']) == [reportDir: 'report', reportFiles: 'status.html']
    assert h.callsOf('publishHTML')[0][2] == runDir(h)
    assert h.result == 'SUCCESS'
}

test('patchlineReport: a failed report still archives; without the HTML Publisher plugin it says where the page is') {
    PipelineHarness h = harness()
    h.htmlPublisherInstalled = false
    h.fake('report', "echo 'patchline: EREPORT template apply-conflict.text.hbs: \"mesage\" not defined' >&2; exit 1\n")
    h.callVar('patchlineReport', settings(h))
    assert h.result == 'FAILURE'
    assert h.callsOf('archiveArtifacts').size() == 1 && h.callsOf('junit').size() == 1
    assert h.console.contains('ERROR: patchline report failed (exit 1): patchline: EREPORT template apply-conflict.text.hbs: "mesage" not defined')
    assert h.console[-1] == 'patchline: the HTML Publisher plugin is not installed: the status page is in the archived artifacts (report/status.html)'
}

test('patchlineReport: failed tests in junit.xml make the build UNSTABLE (the junit step), the step itself having passed') {
    PipelineHarness h = harness()
    h.fake('report', '''mkdir -p "$run_dir/report"
echo '<testsuites name="x" tests="2" failures="1" skipped="0" errors="0"></testsuites>' >"$run_dir/report/junit.xml"
exit 0
''')
    h.callVar('patchlineReport', settings(h))
    assert h.result == 'UNSTABLE'
}

/* ------------------------------------------------------------------ the pipeline */

Map DEFAULTS = [REPO: '', BRANCH: '', DRY_RUN: false, SCRATCH: false, CONFIG: 'patchline.yaml']
/** A harness whose build runs patchlinePipeline(config): config is made from the harness (its state dir). */
Closure<PipelineHarness> pipelineOf = { Map opts = [:], Closure<Map> config ->
    PipelineHarness h = harness(opts.installed != false)
    h.params.putAll(DEFAULTS + (opts.params ?: [:]))
    h.callVar('patchlinePipeline', config(h))
    return h
}
Closure<Map> STATE = { PipelineHarness h -> [stateDir: h.stateDir.path] }

test('patchlinePipeline: agent label, nightly cron, one build at a time, the parameters REPO, BRANCH, DRY_RUN, SCRATCH, CONFIG') {
    PipelineModel p = pipelineOf { [config: 'ops/patchline.yaml', label: 'rpm && koji', stateDir: '/srv/patchline'] }.pipeline
    assert p.agent == [[name: 'label', args: ['rpm && koji']]]
    assert p.triggers == [[name: 'cron', args: ['H 2 * * *']]]
    assert p.options.find { it.name == 'disableConcurrentBuilds' } && p.options.find { it.name == 'buildDiscarder' }
    assert p.parameters.collect { [it.name, it.args[0].name, it.args[0].defaultValue] } == [
        ['string', 'REPO', ''], ['string', 'BRANCH', ''], ['booleanParam', 'DRY_RUN', false], ['booleanParam', 'SCRATCH', false], ['string', 'CONFIG', 'ops/patchline.yaml']]
    assert p.stages*.name == ['Prepare', 'Harvest', 'Apply', 'Build', 'Test', 'Publish']
    assert p.post.keySet() == ['always'] as Set
    PipelineModel other = pipelineOf { [stateDir: '/srv/patchline', cron: 'H 4 * * 1-5'] }.pipeline
    assert other.agent == [[name: 'label', args: ['']]] && other.triggers == [[name: 'cron', args: ['H 4 * * 1-5']]]
}

test('patchlinePipeline: an option it does not know is refused (e.g. the old imapCredentialsId)') {
    assert failure { pipelineOf { [imapCredentialsId: 'x'] } } == "patchlinePipeline: unknown option 'imapCredentialsId' (known: config, credentials, stateDir, label, cron, toolDir, fromCheckout; docs/jenkins.md)"
}

test('patchlinePipeline: "Build Now" shows the installed tool\'s version, runs every step in order and the report in post; SUCCESS') {
    PipelineHarness h = pipelineOf(params: [CONFIG: 'ops/patchline.yaml']) { PipelineHarness x -> [config: 'ops/patchline.yaml', stateDir: x.stateDir.path] }
    h.runPipeline()
    assert h.callsOf('sh')[0][1].script == 'patchline --version'
    assert h.console[0..1] == ['+ patchline --version', 'patchline 0.0.0-fake']
    assert h.patchlineCalls().collect { [it.step, it.args] } == STEPS.collect { [it, baseArgs(h, 'ops/patchline.yaml')] }
    assert !new File(h.caseDir, 'npm').exists()
    assert h.result == 'SUCCESS'
    assert h.console[-1] == 'Finished: SUCCESS'
}

test('patchlinePipeline: REPO/BRANCH/DRY_RUN/SCRATCH reach every step (--scratch the build only)') {
    PipelineHarness h = pipelineOf(params: [REPO: 'hello', BRANCH: 'main', DRY_RUN: true, SCRATCH: true], STATE)
    h.runPipeline()
    assert h.patchlineCalls().size() == 6
    h.patchlineCalls().each { Map c ->
        assert c.args == baseArgs(h) + ['--repo', 'hello', '--branch', 'main', '--dry-run'] + (c.step == 'build' ? ['--scratch'] : [])
    }
    assert h.result == 'SUCCESS'
}

test('patchlinePipeline: a pull-request build (multibranch, CHANGE_ID set) is a dry run: nothing pushed, published or mailed') {
    PipelineHarness h = pipelineOf(STATE)
    h.env.CHANGE_ID = '42'
    h.runPipeline()
    assert h.patchlineCalls().size() == 6
    h.patchlineCalls().each { Map c -> assert c.args == baseArgs(h) + ['--dry-run'] }
}

test('patchlinePipeline: a failed stage skips the rest, the report still runs in post; the console ends with the one-line error') {
    PipelineHarness h = pipelineOf(STATE)
    h.fake('apply', "echo 'applying'; echo 'patchline: EAPPLY series hello/main: patch 2/3 does not apply' >&2; exit 1\n")
    h.runPipeline()
    assert h.callsOf('skipped stage').collect { it[1] } == ['Build', 'Test', 'Publish']
    assert h.patchlineCalls()*.step == ['harvest', 'apply', 'report']
    int applyEnd = h.console.indexOf('patchline: EAPPLY series hello/main: patch 2/3 does not apply')
    assert h.console[applyEnd + 1] == 'Stage "Build" skipped due to earlier failure(s)'
    assert h.console[-2..-1] == ['ERROR: patchline apply failed (exit 1): patchline: EAPPLY series hello/main: patch 2/3 does not apply', 'Finished: FAILURE']
    assert h.result == 'FAILURE'
}

test('patchlinePipeline: a partly failed build marks the build UNSTABLE and goes on to publish') {
    PipelineHarness h = pipelineOf(STATE)
    h.fake('build', "echo 'patchline: EBUILD hello el9: rpmbuild failed' >&2; exit 3\n")
    h.runPipeline()
    assert h.patchlineCalls()*.step == STEPS
    assert h.result == 'UNSTABLE'
    assert h.console[-1] == 'Finished: UNSTABLE'
}

test('patchlinePipeline: with every credential named, each stage gets its own; no secret on the console') {
    PipelineHarness h = pipelineOf { PipelineHarness x -> [stateDir: x.stateDir.path, credentials: CREDS] }
    h.runPipeline()
    assert h.patchlineCalls().collect { it.env } == STAGE_VARS.values()*.sees
    CREDS.values().each { String id -> h.console.each { assert !it.contains(secret(id)) } }
    assert h.result == 'SUCCESS'
}

test('patchlinePipeline: no patchline on the agent fails Prepare with what to do, and the rest is skipped') {
    PipelineHarness h = pipelineOf(installed: false, STATE)
    h.runPipeline()
    assert h.callsOf('skipped stage').collect { it[1] } == ['Harvest', 'Apply', 'Build', 'Test', 'Publish']
    assert h.console[-2] =~ /^ERROR: patchline: `patchline --version` failed \(exit 127\): install patchline on this agent/
    assert h.result == 'FAILURE'
}

test('patchlinePipeline: toolDir puts a patchline that is not on the agent\'s PATH first') {
    File opt = null
    PipelineHarness h = pipelineOf(installed: false) { PipelineHarness x ->
        opt = new File(x.home, 'opt/patchline-1.2/bin')
        opt.mkdirs()
        File bin = new File(opt, 'patchline')
        bin.text = new File(root, 'test/groovy/fake-bin/patchline').text
        bin.setExecutable(true)
        [stateDir: x.stateDir.path, toolDir: opt.path]
    }
    h.runPipeline()
    assert h.patchlineCalls().size() == 6
    assert h.patchlineCalls().every { it.bin == opt.path + '/patchline' }
    assert h.result == 'SUCCESS'
}

/* ------------------------------------------------------------------ upstream packaging and tracking */

String UPSTREAM_RUNS = '/upstream/runs/'
Closure<List> upstreamArgs = { PipelineHarness h -> ['--config', 'patchline.yaml', '--state-dir', h.stateDir.path, '--run-dir', h.stateDir.path + UPSTREAM_RUNS + RUN_ID] }
Closure<List> scanArgs = { PipelineHarness h -> ['--config', 'patchline.yaml', '--state-dir', h.stateDir.path] }

test('patchlineUpstream: runs `patchline upstream run` into <state>/upstream/runs/<build start>; sees git, Koji, rsync and SMTP credentials, not IMAP; JUnit recorded from the run dir') {
    PipelineHarness h = harness()
    h.fake('upstream-run', 'echo \'<testsuites name="upstream" tests="1" failures="0"/>\' >"$run_dir/junit.xml"\n')
    assert h.callVar('patchlineUpstream', settings(h, [credentials: CREDS])) == 0
    List calls = h.patchlineCalls()
    assert calls*.step == ['upstream-run']
    assert calls[0].args == upstreamArgs(h)
    assert calls[0].env == SEEN.kojiCert + SEEN.kojiCa + SEEN.smtp + SEEN.gitHttps + [SSH_AUTH_SOCK: 'keys:team-git-key,team-rsync-key']
    String dir = h.stateDir.path + UPSTREAM_RUNS + RUN_ID
    assert h.callsOf('junit')[0][1..2] == [[testResults: 'junit.xml', allowEmptyResults: true], dir]
    assert h.callsOf('archiveArtifacts')[0][2] == dir
    assert h.result == 'SUCCESS'
}

test('patchlineUpstream: project, headOnly and dryRun pass exactly --project, --head-only, --dry-run; repo and branch are not its options') {
    PipelineHarness h = harness()
    h.callVar('patchlineUpstream', settings(h, [project: 'nova; rm -rf /', headOnly: true, dryRun: true, repo: 'hello', branch: 'main']))
    assert h.patchlineCalls()[0].args == upstreamArgs(h) + ['--project', 'nova; rm -rf /', '--head-only', '--dry-run']
}

test('patchlineUpstream: a failed run fails the stage with its one-line error, and its JUnit and logs are still handed over') {
    PipelineHarness h = harness()
    h.fake('upstream-run', "echo 'patchline: EUPSTREAM nova: the upstream cannot be fetched' >&2; exit 1\n")
    assert failure { h.callVar('patchlineUpstream', settings(h)) } == 'patchline upstream failed (exit 1): patchline: EUPSTREAM nova: the upstream cannot be fetched'
    assert h.callsOf('junit').size() == 1 && h.callsOf('archiveArtifacts').size() == 1
}

test('patchlineTrackScan: runs `patchline track scan` with its options only; sees the git and SMTP credentials; its log under <state>/tracking/runs/<build start>') {
    PipelineHarness h = harness()
    h.fake('track-scan', "echo 'patchline: ETRACK qemu/master: patch 2 does not apply' >&2; exit 3\n")
    assert h.callVar('patchlineTrackScan', settings(h, [credentials: CREDS, dryRun: true, repo: 'x'])) == 3
    assert h.patchlineCalls()*.step == ['track-scan']
    assert h.patchlineCalls()[0].args == scanArgs(h)
    assert h.patchlineCalls()[0].env == SEEN.smtp + SEEN.gitHttps + [SSH_AUTH_SOCK: 'keys:team-git-key']
    assert new File(h.stateDir, 'tracking/runs/' + RUN_ID + '/track-scan.log').text.contains('patch 2 does not apply')
    assert h.result == 'UNSTABLE'
}

Map UPSTREAM_DEFAULTS = [PROJECT: '', HEAD_ONLY: false, DRY_RUN: false, CONFIG: 'patchline.yaml']
Closure<PipelineHarness> upstreamPipelineOf = { Map opts = [:], Closure<Map> config ->
    PipelineHarness h = harness(opts.installed != false)
    h.params.putAll(UPSTREAM_DEFAULTS + (opts.params ?: [:]))
    h.callVar('patchlineUpstreamPipeline', config(h))
    return h
}

test('patchlineUpstreamPipeline: hourly cron, one build at a time, PROJECT/HEAD_ONLY/DRY_RUN/CONFIG; Prepare, Upstream, Track') {
    PipelineHarness h = upstreamPipelineOf(STATE)
    PipelineModel p = h.pipeline
    assert p.triggers == [[name: 'cron', args: ['H * * * *']]]
    assert p.options.find { it.name == 'disableConcurrentBuilds' }
    assert p.parameters.collect { [it.name, it.args[0].name, it.args[0].defaultValue] } == [
        ['string', 'PROJECT', ''], ['booleanParam', 'HEAD_ONLY', false], ['booleanParam', 'DRY_RUN', false], ['string', 'CONFIG', 'patchline.yaml']]
    h.runPipeline()
    assert p.stages*.name == ['Prepare', 'Upstream', 'Track']
    assert h.patchlineCalls().collect { [it.step, it.args] } == [['upstream-run', upstreamArgs(h)], ['track-scan', scanArgs(h)]]
    assert h.result == 'SUCCESS'
    assert failure { upstreamPipelineOf { [repo: 'x'] } } == "patchlineUpstreamPipeline: unknown option 'repo' (known: config, credentials, stateDir, label, cron, toolDir, fromCheckout; docs/jenkins.md)"
}

test('patchlineUpstreamPipeline: one project by parameter (head only, dry run) builds only it, and skips the tracking scan') {
    PipelineHarness h = upstreamPipelineOf(params: [PROJECT: 'nova', HEAD_ONLY: true, DRY_RUN: true], STATE)
    h.runPipeline()
    assert h.patchlineCalls().collect { [it.step, it.args] } == [['upstream-run', upstreamArgs(h) + ['--project', 'nova', '--head-only', '--dry-run']]]
    assert h.callsOf('skipped stage').collect { it[1] } == ['Track']
    assert h.console.contains('Stage "Track" skipped due to when conditional')
    assert h.result == 'SUCCESS'
}

test('this repo\'s Jenkinsfile.upstream: the library from this branch, patchline installed from the checkout, the upstream pipeline') {
    PipelineHarness h = harness(false)
    h.params.putAll(UPSTREAM_DEFAULTS)
    h.env.PATCHLINE_STATE_DIR = h.stateDir.path
    h.evaluateJenkinsfile(null, 'Jenkinsfile.upstream')
    assert h.callsOf('library')[0][1].identifier == 'patchline@main'
    h.runPipeline()
    assert h.patchlineCalls()*.step == ['upstream-run', 'track-scan']
    assert h.patchlineCalls().every { it.bin == h.workspace.path + '/.patchline-tool/bin/patchline' }
    assert h.result == 'SUCCESS'
}

/* ------------------------------------------------------------------ the Jenkinsfiles */

test('the two-line Jenkinsfile of docs/jenkins.md runs the whole pipeline with the library and the installed tool') {
    String doc = new File(root, 'docs/jenkins.md').text
    def m = (doc =~ /(?s)<!-- team Jenkinsfile -->\s*```groovy\n(.*?)```/)
    assert m.find(), 'docs/jenkins.md: no ```groovy block after <!-- team Jenkinsfile -->'
    String jenkinsfile = m.group(1).replace('/var/lib/patchline/hello', '@STATE@')
    assert jenkinsfile.readLines().findAll { it.trim() && !it.trim().startsWith('//') }.size() == 2
    PipelineHarness h = harness()
    h.params.putAll(DEFAULTS)
    h.evaluateJenkinsfile(jenkinsfile.replace('@STATE@', h.stateDir.path))
    assert h.callsOf('library').size() == 1
    h.runPipeline()
    assert h.patchlineCalls()*.step == STEPS
    assert h.patchlineCalls().every { it.bin == h.binDir.path + '/patchline' }
    assert h.result == 'SUCCESS'
}

test('this repo\'s Jenkinsfile: the library from this branch; patchline installed from the checkout (npm ci, build, pack, install -g) and used from there') {
    PipelineHarness h = harness(false)
    h.params.putAll(DEFAULTS)
    h.env.BRANCH_NAME = 'stable'
    h.env.PATCHLINE_STATE_DIR = h.stateDir.path
    h.evaluateJenkinsfile()
    assert h.callsOf('library')[0][1] == [identifier: 'patchline@stable', retriever: [retriever: 'legacySCM', scm: [kind: 'scm']]]
    h.runPipeline()
    assert new File(h.caseDir, 'npm').readLines() == [
        'npm ci --no-audit --no-fund', 'npm run build', 'npm pack --pack-destination .patchline-tool',
        'npm install --global --no-audit --no-fund --prefix .patchline-tool .patchline-tool/patchline-0.0.0.tgz']
    assert h.patchlineCalls()*.step == STEPS
    assert h.patchlineCalls().every { it.bin == h.workspace.path + '/.patchline-tool/bin/patchline' }
    assert h.result == 'SUCCESS'
}

test('this repo\'s Jenkinsfile: main by default, and the state in /var/tmp/patchline/<job> when PATCHLINE_STATE_DIR is not set') {
    PipelineHarness h = harness()
    h.params.putAll(DEFAULTS)
    h.evaluateJenkinsfile()
    assert h.callsOf('library')[0][1].identifier == 'patchline@main'
    Map called = null
    PipelineHarness other = harness()
    other.binding.setVariable('patchlinePipeline', { Map c -> called = c })
    other.evaluateJenkinsfile()
    assert called == [config: 'patchline.yaml', fromCheckout: true, stateDir: '/var/tmp/patchline/team/patchline']
}

test('every params.X read in vars/ and the Jenkinsfiles is a declared parameter') {
    Set declared = (pipelineOf(STATE).pipeline.parameters + upstreamPipelineOf(STATE).pipeline.parameters).collect { it.args[0].name } as Set
    List<File> sources = new File(root, 'vars').listFiles().findAll { it.name.endsWith('.groovy') } + [new File(root, 'Jenkinsfile'), new File(root, 'Jenkinsfile.upstream')]
    Set read = sources.collectMany { File f -> f.text.findAll(/params\.([A-Za-z_][A-Za-z0-9_]*)/) { all, name -> name } } as Set
    assert read && declared.containsAll(read), "read but not declared: ${read - declared}"
    assert declared == read, "declared but never read: ${declared - read}"
}

test('every var has its .txt (the Pipeline Syntax page), and no file in vars/ is a symlink (the library loader refuses them)') {
    List<File> files = new File(root, 'vars').listFiles() as List
    Set groovy = files.findAll { it.name.endsWith('.groovy') }.collect { it.name - '.groovy' } as Set
    Set txt = files.findAll { it.name.endsWith('.txt') }.collect { it.name - '.txt' } as Set
    assert groovy == txt
    files.each { assert !java.nio.file.Files.isSymbolicLink(it.toPath()), it.name }
}

cases.each { String name, Closure body ->
    try {
        body.call()
        println "PASS\t${name}"
    } catch (Throwable t) {
        failures++
        println "FAIL\t${name}\t${(t.message ?: t.toString()).replace('\n', '\\n')}"
    }
}
made.each { it.home.deleteDir() }
System.exit(failures ? 1 : 0)
