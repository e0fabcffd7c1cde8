/**
 * The one runner under every patchline stage (after SAP Piper): binds the credentials the call
 * names and the stage uses, hands the parameters over as environment variables, runs the
 * installed `patchline <step>` on the agent and maps its exit code. All logic lives in patchline;
 * this file only wires it.
 *
 * Values from parameters or mail never enter the sh string: it is built from constants only and
 * reads them as "$PATCHLINE_..." (single-quoted Groovy strings, so Groovy interpolates nothing).
 */
import groovy.transform.Field

@Field
static final List<String> STEPS = ['harvest', 'apply', 'build', 'test', 'publish', 'report', 'upstream', 'track-scan']

/** The patchline subcommand of each stage: the mail pipeline's steps, the upstream packaging run, the tracking scan. */
@Field
static final Map<String, String> COMMANDS = [upstream: 'upstream run', 'track-scan': 'track scan']

/** Where a stage's run dirs live under the state dir (its log is kept beside its results). */
@Field
static final Map<String, String> RUNS = [upstream: 'upstream/runs', 'track-scan': 'tracking/runs']

/**
 * The credentials a call may name (`credentials: [imap: 'id', ...]`): the kind the Jenkins
 * credential must be and where its secret lands. A stage binds only those it uses and the call names.
 */
@Field
static final Map<String, Map> CREDENTIALS = [
    imap    : [kind: 'usernamePassword', usernameVariable: 'PATCHLINE_IMAP_USER', passwordVariable: 'PATCHLINE_IMAP_PASSWORD'],
    smtp    : [kind: 'usernamePassword', usernameVariable: 'PATCHLINE_SMTP_USER', passwordVariable: 'PATCHLINE_SMTP_PASSWORD'],
    kojiCert: [kind: 'file', variable: 'PATCHLINE_KOJI_CERT'],
    kojiCa  : [kind: 'file', variable: 'PATCHLINE_KOJI_SERVERCA'],
    git     : [kind: 'sshUserPrivateKey'],
    gitHttps: [kind: 'gitUsernamePassword'],
    rsync   : [kind: 'sshUserPrivateKey'],
]

/**
 * The sh script: constants only. Jenkins runs it with `sh -xe`: `set +x` keeps the trace from
 * following the step's last line, and `|| rc=$?` keeps -e from ending the script before the exit
 * code is recorded. Both output streams go through one pipe, in order and as they come, to the
 * console and to <step>.log in the run dir, whose last line is the step's one-line error.
 */
static String stepScript(String step, Map config) {
    List<String> args = ['--config "$PATCHLINE_CONFIG"', '--state-dir "$PATCHLINE_STATE_DIR"']
    if (step != 'track-scan') {
        args << '--run-dir "$PATCHLINE_RUN_DIR"'
    }
    if (config.project && step == 'upstream') {
        args << '--project "$PATCHLINE_PROJECT"'
    }
    if (config.headOnly && step == 'upstream') {
        args << '--head-only'
    }
    if (config.repo && !(step in ['upstream', 'track-scan'])) {
        args << '--repo "$PATCHLINE_REPO"'
    }
    if (config.branch && !(step in ['upstream', 'track-scan'])) {
        args << '--branch "$PATCHLINE_BRANCH"'
    }
    if (config.dryRun && step != 'track-scan') {
        args << '--dry-run'
    }
    if (config.scratch && step == 'build') {
        args << '--scratch'
    }
    String file = '"$PATCHLINE_RUN_DIR/' + step
    return [
        'set +x',
        'mkdir -p "$PATCHLINE_RUN_DIR"',
        '{ rc=0; patchline ' + (COMMANDS[step] ?: step) + ' ' + args.join(' ') + ' || rc=$?; echo "$rc" >' + file + '.exit"; } 2>&1 | tee ' + file + '.log"',
        'exit "$(cat ' + file + '.exit")"',
    ].join('\n') + '\n'
}

def call(Map config) {
    String step = config.step
    if (!(step in STEPS)) {
        error("patchlineStep: unknown step '${step}' (known: ${STEPS.join(', ')})")
    }
    Map<String, String> ids = credentialIds(config.credentials ?: [:], config.uses ?: [])
    List bindings = []
    List<String> sshKeys = []
    for (String name in ids.keySet()) {
        Map c = CREDENTIALS[name]
        String id = ids[name]
        if (c.kind == 'usernamePassword') {
            bindings << usernamePassword(credentialsId: id, usernameVariable: c.usernameVariable, passwordVariable: c.passwordVariable)
        } else if (c.kind == 'file') {
            bindings << file(credentialsId: id, variable: c.variable)
        } else if (c.kind == 'gitUsernamePassword') {
            bindings << gitUsernamePassword(credentialsId: id, gitToolName: 'Default')
        } else if (!(id in sshKeys)) {
            sshKeys << id
        }
    }
    String runDir = runDirOf(config, step)
    List<String> environment = [
        "PATCHLINE_CONFIG=${config.config ?: 'patchline.yaml'}",
        "PATCHLINE_STATE_DIR=${stateDirOf(config)}",
        "PATCHLINE_RUN_DIR=${runDir}",
        "PATCHLINE_REPO=${config.repo ?: ''}",
        "PATCHLINE_BRANCH=${config.branch ?: ''}",
        "PATCHLINE_PROJECT=${config.project ?: ''}",
    ] + patchlineTool.pathEntries(config)
    int status = 0
    withEnv(environment) {
        withCredentials(bindings) {
            withSshKeys(sshKeys) {
                status = sh(script: stepScript(step, config), returnStatus: true, label: "patchline ${step}")
            }
        }
    }
    return finish(step, status, runDir)
}

/** The ids the call names for the credentials this stage uses; a name the library does not know is an error. */
Map<String, String> credentialIds(Map named, List<String> uses) {
    Map<String, String> ids = [:]
    for (Object name in named.keySet()) {
        if (!CREDENTIALS.containsKey(name as String)) {
            error("patchline: unknown credential '${name}' (known: ${CREDENTIALS.keySet().join(', ')}; docs/jenkins.md)")
        }
        if ((name as String) in uses && named[name]) {
            ids[name as String] = named[name] as String
        }
    }
    return ids
}

/** ssh-agent with the keys loaded (SSH Agent plugin), only when there are keys. */
void withSshKeys(List<String> keys, Closure body) {
    if (keys) {
        sshagent(credentials: keys) {
            body()
        }
    } else {
        body()
    }
}

/** Exit 0: done; 3: partly failed, the build is UNSTABLE and goes on; else the stage fails with the step's one-line error. */
int finish(String step, int status, String runDir) {
    if (status == 0) {
        return 0
    }
    String name = step == 'track-scan' ? 'track scan' : step
    String log = "${runDir}/${step}.log"
    String message = fileExists(log) ? lastLine(readFile(log)) : ''
    if (status == 3) {
        unstable("patchline ${name}: partly failed: ${message}")
        return 3
    }
    if (status == 127) {
        error("patchline ${name}: the patchline command is not installed on this agent (${message}): install it, or give toolDir (docs/jenkins.md)")
    }
    error("patchline ${name} failed (exit ${status}): ${message}")
}

/**
 * The state dir (ledger, cursors, archive, runs): outside the workspace, so that it outlives
 * workspace cleanups; the call's stateDir, else the agent's PATCHLINE_STATE_DIR.
 */
String stateDirOf(Map config) {
    String dir = config.stateDir ?: env.PATCHLINE_STATE_DIR
    if (!dir) {
        error("patchline: no state dir: pass stateDir: '/var/lib/patchline/<team>' or set PATCHLINE_STATE_DIR on the agent (docs/jenkins.md)")
    }
    String workspace = env.WORKSPACE
    if (!dir.startsWith('/') || (workspace && (dir == workspace || dir.startsWith(workspace + '/')))) {
        error("patchline: the state dir must be an absolute path outside the workspace (it would be lost with the workspace): ${dir}")
    }
    return dir
}

/**
 * This build's run dir: <state dir>/runs/<the build's start time, UTC>, the same for every stage of
 * the build; an upstream run's under <state dir>/upstream/runs, a tracking scan's log under tracking/runs.
 */
String runDirOf(Map config, String step = 'harvest') {
    if (config.runDir) {
        return config.runDir
    }
    String runId = new Date(currentBuild.startTimeInMillis as long).format("yyyyMMdd'T'HHmmss'Z'", TimeZone.getTimeZone('UTC'))
    return "${stateDirOf(config)}/${RUNS[step] ?: 'runs'}/${runId}"
}

static String lastLine(String text) {
    String last = ''
    for (String line in text.readLines()) {
        if (line.trim()) {
            last = line.trim()
        }
    }
    return last
}
