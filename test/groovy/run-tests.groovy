/**
 * The Groovy tests of vars/ and the Jenkinsfile, all in one JVM (groovy starts slowly).
 * Usage: groovy -cp test/groovy test/groovy/run-tests.groovy <repo root>
 * Prints one line per case: PASS<TAB>name or FAIL<TAB>name<TAB>why; exits 1 if any failed.
 */
File root = new File(args ? args[0] : '.').canonicalFile
int failures = 0
Map<String, Closure> cases = [:]
def test = { String name, Closure body -> cases[name] = body }

PipelineHarness harness() { new PipelineHarness(new File(args ? args[0] : '.').canonicalFile) }

String expectedScript(String step, List<String> args) {
    String err = '"$PATCHLINE_RUN_DIR/' + step + '.stderr"'
    return ['mkdir -p "$PATCHLINE_RUN_DIR"',
            'node --max-semi-space-size=32 dist/steps/' + step + '.js ' + args.join(' ') + ' 2>' + err,
            'rc=$?',
            'cat ' + err + ' >&2',
            'exit $rc'].join('\n') + '\n'
}

List<String> BASE_ARGS = ['--config "$PATCHLINE_CONFIG"', '--run-dir "$PATCHLINE_RUN_DIR"']
Map<String, Map> STAGE_VARS = [
    patchlineHarvest: [step: 'harvest', credentials: [[kind: 'string', credentialsId: 'patchline-imap', variable: 'PATCHLINE_IMAP_PASSWORD']]],
    patchlineApply  : [step: 'apply', credentials: []],
    patchlineBuild  : [step: 'build', credentials: [[kind: 'file', credentialsId: 'patchline-koji-cert', variable: 'PATCHLINE_KOJI_CERT']]],
    patchlinePublish: [step: 'publish', credentials: []],
    patchlineReport : [step: 'report', credentials: [[kind: 'string', credentialsId: 'patchline-smtp', variable: 'PATCHLINE_SMTP_PASSWORD']]],
]

STAGE_VARS.each { String var, Map expected ->
    test("${var}: runs node dist/steps/${expected.step}.js with the exact argument list, credentials bound") {
        PipelineHarness h = harness()
        assert h.callVar(var, [config: 'conf/patchline.yaml']) == 0 || var == 'patchlineReport'
        List sh = h.callsOf('sh')
        assert sh.size() == 1
        assert sh[0][1].script == expectedScript(expected.step, BASE_ARGS)
        assert sh[0][1].returnStatus == true
        assert h.callsOf('withCredentials').collect { it[1] } == [expected.credentials]
        assert h.callsOf('withEnv')[0][1] == ['PATCHLINE_CONFIG=conf/patchline.yaml', 'PATCHLINE_RUN_DIR=patchline-run', 'PATCHLINE_REPO=', 'PATCHLINE_BRANCH=']
    }
}

test('patchlineBuild: a per-branch scratch dry run passes exactly --repo, --branch, --dry-run, --scratch') {
    PipelineHarness h = harness()
    h.callVar('patchlineBuild', [config: 'patchline.yaml', repo: 'hello', branch: 'stable-2.1', dryRun: true, scratch: true])
    assert h.callsOf('sh')[0][1].script == expectedScript('build', BASE_ARGS + ['--repo "$PATCHLINE_REPO"', '--branch "$PATCHLINE_BRANCH"', '--dry-run', '--scratch'])
    assert h.callsOf('withEnv')[0][1] == ['PATCHLINE_CONFIG=patchline.yaml', 'PATCHLINE_RUN_DIR=patchline-run', 'PATCHLINE_REPO=hello', 'PATCHLINE_BRANCH=stable-2.1']
}

test('hostile parameter values reach the shell only through env vars, never the script text') {
    PipelineHarness h = harness()
    String hostile = 'x"; rm -rf / #$(id)`id`'
    h.callVar('patchlineApply', [repo: hostile, branch: hostile])
    String script = h.callsOf('sh')[0][1].script
    assert !script.contains(hostile) && !script.contains('rm -rf')
    assert script == expectedScript('apply', BASE_ARGS + ['--repo "$PATCHLINE_REPO"', '--branch "$PATCHLINE_BRANCH"'])
    assert h.callsOf('withEnv')[0][1].contains('PATCHLINE_REPO=' + hostile)
}

test('secrets: bound by withCredentials, absent from every sh script, and sh gets plain Strings (no GString)') {
    PipelineHarness h = harness()
    ['patchlineHarvest', 'patchlineBuild', 'patchlineReport'].each { h.callVar(it) }
    List scripts = h.callsOf('sh').collect { it[1].script }
    assert scripts.size() == 3
    scripts.each { assert it instanceof String }
    ['PATCHLINE_IMAP_PASSWORD', 'PATCHLINE_KOJI_CERT', 'PATCHLINE_SMTP_PASSWORD'].each { String v ->
        scripts.each { String s -> assert !s.contains(PipelineHarness.secretValue(v)) && !s.contains(v) }
    }
}

test('secrets: no double-quoted string in vars/ or the Jenkinsfile mentions a secret variable') {
    List<File> sources = new File(root, 'vars').listFiles().findAll { it.name.endsWith('.groovy') } + [new File(root, 'Jenkinsfile')]
    sources.each { File f ->
        f.text.findAll(/"(?:[^"\\]|\\.)*"/).each { String literal ->
            assert !(literal =~ /PASSWORD|KOJI_CERT|TOKEN/), "${f.name}: ${literal}"
        }
    }
}

test('credentials can be switched off per stage (a mailbox source needs no IMAP password)') {
    PipelineHarness h = harness()
    h.callVar('patchlineHarvest', [imapCredentialsId: null])
    h.callVar('patchlineBuild', [kojiCredentialsId: 'team-koji'])
    assert h.callsOf('withCredentials').collect { it[1] } == [[], [[kind: 'file', credentialsId: 'team-koji', variable: 'PATCHLINE_KOJI_CERT']]]
}

test('exit 3 -> unstable with the step\'s one-line message, and the stage goes on') {
    PipelineHarness h = harness()
    h.shStatus = { String s -> 3 }
    h.files['patchline-run/build.stderr'] = 'building hello\npatchline: EBUILD hello el9: rpmbuild failed [hello-1.0]\n\n'
    assert h.callVar('patchlineBuild') == 3
    assert h.callsOf('unstable') == [['unstable', 'patchline build: partly failed: patchline: EBUILD hello el9: rpmbuild failed [hello-1.0]']]
    assert h.callsOf('error').isEmpty()
    assert h.result == 'UNSTABLE'
}

[1, 2].each { int code ->
    test("exit ${code} -> error with the step's one-line message") {
        PipelineHarness h = harness()
        h.shStatus = { String s -> code }
        h.files['patchline-run/harvest.stderr'] = 'patchline: ECONFIG sources.0.host: required (in patchline.yaml)\n'
        try {
            h.callVar('patchlineHarvest')
            assert false, 'error() was not called'
        } catch (PipelineFailure failure) {
            assert failure.message == "patchline harvest failed (exit ${code}): patchline: ECONFIG sources.0.host: required (in patchline.yaml)"
        }
        assert h.callsOf('unstable').isEmpty()
    }
}

test('patchlineStep refuses a step it does not know') {
    PipelineHarness h = harness()
    try {
        h.callVar('patchlineStep', [step: 'rm -rf'])
        assert false
    } catch (PipelineFailure failure) {
        assert failure.message.startsWith("patchlineStep: unknown step 'rm -rf'")
    }
    assert h.callsOf('sh').isEmpty()
}

test('patchlineReport: report step, then the run dir archived, JUnit recorded, status page published') {
    PipelineHarness h = harness()
    h.callVar('patchlineReport', [config: 'patchline.yaml'])
    assert h.calls.collect { it[0] }.findAll { it in ['sh', 'archiveArtifacts', 'junit', 'publishHTML'] } == ['sh', 'archiveArtifacts', 'junit', 'publishHTML']
    assert h.callsOf('archiveArtifacts')[0][1] == [artifacts: 'patchline-run/**', allowEmptyArchive: true]
    assert h.callsOf('junit')[0][1] == [testResults: 'patchline-run/report/junit.xml', allowEmptyResults: true]
    assert h.callsOf('publishHTML')[0][1].target.reportFiles == 'status.html'
}

test('patchlineReport: a failed report still archives; without the HTML Publisher plugin it says where the page is') {
    PipelineHarness h = harness()
    h.htmlPublisherInstalled = false
    h.shStatus = { String s -> 1 }
    h.callVar('patchlineReport')
    assert h.result == 'FAILURE'
    assert h.callsOf('archiveArtifacts').size() == 1 && h.callsOf('junit').size() == 1
    assert h.callsOf('echo')[0][1].contains('HTML Publisher plugin is not installed')
}

Closure<PipelineHarness> jenkinsfile = { Map params ->
    PipelineHarness h = harness()
    h.params.putAll(params)
    h.evaluateJenkinsfile()
    return h
}
Map DEFAULTS = [REPO: '', BRANCH: '', DRY_RUN: false, SCRATCH: false, CONFIG: 'patchline.yaml']

test('Jenkinsfile: library from this repo, nightly cron, disableConcurrentBuilds, the five parameters') {
    PipelineHarness h = jenkinsfile(DEFAULTS)
    assert h.callsOf('library')[0][1] == [identifier: 'patchline@main', retriever: [retriever: 'legacySCM', scm: [kind: 'scm']]]
    PipelineModel p = h.pipeline
    assert p.triggers == [[name: 'cron', args: ['H 2 * * *']]]
    assert 'disableConcurrentBuilds' in p.options*.name
    assert p.parameters.collect { [it.name, it.args[0].name, it.args[0].defaultValue] } == [
        ['string', 'REPO', ''], ['string', 'BRANCH', ''], ['booleanParam', 'DRY_RUN', false], ['booleanParam', 'SCRATCH', false], ['string', 'CONFIG', 'patchline.yaml']]
    assert p.stages*.name == ['Prepare', 'Harvest', 'Apply', 'Build', 'Publish']
    assert p.post.keySet() == ['always'] as Set
}

test('Jenkinsfile: a per-branch build loads the library of that branch') {
    PipelineHarness h = harness()
    h.env.BRANCH_NAME = 'stable'
    h.evaluateJenkinsfile()
    assert h.callsOf('library')[0][1].identifier == 'patchline@stable'
}

test('Jenkinsfile: "Build Now" with the defaults builds, runs every stage, and the report in post') {
    PipelineHarness h = jenkinsfile(DEFAULTS)
    h.runPipeline()
    assert h.callsOf('sh')[0][1] == 'npm ci --no-audit --no-fund && npm run build'
    List steps = h.callsOf('sh').drop(1).collect { (it[1].script =~ /node --max-semi-space-size=32 dist\/steps\/(\w+)\.js (.*) 2>/)[0][1..2] }
    assert steps == ['harvest', 'apply', 'build', 'publish', 'report'].collect { [it, BASE_ARGS.join(' ')] }
    assert h.result == 'SUCCESS'
}

test('Jenkinsfile: REPO/BRANCH/DRY_RUN/SCRATCH reach every step') {
    PipelineHarness h = jenkinsfile(DEFAULTS + [REPO: 'hello', BRANCH: 'main', DRY_RUN: true, SCRATCH: true, CONFIG: 'teams/x.yaml'])
    h.runPipeline()
    List scripts = h.callsOf('sh').drop(1).collect { it[1].script }
    assert scripts.size() == 5
    scripts.each { assert it.contains('--repo "$PATCHLINE_REPO" --branch "$PATCHLINE_BRANCH" --dry-run') }
    assert scripts.findAll { it.contains('--scratch') }.size() == 5
    h.callsOf('withEnv').each { assert it[1].containsAll(['PATCHLINE_CONFIG=teams/x.yaml', 'PATCHLINE_REPO=hello', 'PATCHLINE_BRANCH=main']) }
}

test('Jenkinsfile: a failed stage skips the rest, the report still runs in post, the build fails') {
    PipelineHarness h = jenkinsfile(DEFAULTS)
    h.shStatus = { String s -> s.contains('steps/apply.js') ? 1 : 0 }
    h.files['patchline-run/apply.stderr'] = 'patchline: EAPPLY series hello/main: patch 2/3 does not apply\n'
    h.runPipeline()
    assert h.callsOf('skipped stage').collect { it[1] } == ['Build', 'Publish']
    assert h.callsOf('error')[0][1] == 'patchline apply failed (exit 1): patchline: EAPPLY series hello/main: patch 2/3 does not apply'
    assert h.callsOf('sh').last()[1].script.contains(' dist/steps/report.js ')
    assert h.result == 'FAILURE'
}

test('Jenkinsfile: a partly failed build marks the build UNSTABLE and goes on to publish') {
    PipelineHarness h = jenkinsfile(DEFAULTS)
    h.shStatus = { String s -> s.contains('steps/build.js') ? 3 : 0 }
    h.runPipeline()
    assert h.result == 'UNSTABLE'
    assert h.callsOf('sh').any { it[1] instanceof Map && it[1].script.contains('steps/publish.js') }
}

test('patchlinePipeline(Map) declares the same pipeline as the Jenkinsfile') {
    PipelineHarness fromFile = jenkinsfile(DEFAULTS)
    PipelineHarness fromVar = harness()
    fromVar.params.putAll(DEFAULTS)
    fromVar.callVar('patchlinePipeline', [:])
    ['agent', 'options', 'triggers', 'parameters'].each { assert fromVar.pipeline[it] == fromFile.pipeline[it] }
    assert fromVar.pipeline.stages*.name == fromFile.pipeline.stages*.name
    fromFile.runPipeline()
    fromVar.runPipeline()
    assert fromVar.calls == fromFile.calls.findAll { it[0] != 'library' }
}

test('patchlinePipeline(Map): config path, cron and credential ids from the map') {
    PipelineHarness h = harness()
    h.params.putAll(DEFAULTS + [CONFIG: 'ops/patchline.yaml'])
    h.callVar('patchlinePipeline', [config: 'ops/patchline.yaml', cron: 'H 4 * * 1-5', imapCredentialsId: 'list-imap', smtpCredentialsId: null])
    assert h.pipeline.triggers == [[name: 'cron', args: ['H 4 * * 1-5']]]
    assert h.pipeline.parameters.find { it.args[0].name == 'CONFIG' }.args[0].defaultValue == 'ops/patchline.yaml'
    h.runPipeline()
    assert h.callsOf('withCredentials').collect { it[1]*.credentialsId } == [['list-imap'], [], ['patchline-koji-cert'], [], []]
}

test('every params.X read in vars/ and the Jenkinsfile is a declared parameter') {
    Set declared = jenkinsfile(DEFAULTS).pipeline.parameters.collect { it.args[0].name } as Set
    List<File> sources = new File(root, 'vars').listFiles().findAll { it.name.endsWith('.groovy') } + [new File(root, 'Jenkinsfile')]
    Set read = sources.collectMany { File f -> f.text.findAll(/params\.([A-Za-z_][A-Za-z0-9_]*)/) { all, name -> name } } as Set
    assert read && declared.containsAll(read), "read but not declared: ${read - declared}"
    assert declared == read, "declared but never read: ${declared - read}"
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
System.exit(failures ? 1 : 0)
