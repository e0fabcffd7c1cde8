/**
 * The one runner under every patchline stage (after SAP Piper): binds the credentials the stage
 * names, hands the parameters over as environment variables, runs `node dist/steps/<step>.js`
 * (with the V8 flag of the step binaries' shebang line, see docs/decisions/harvest-gc.md)
 * and maps its exit code. All logic lives in the step binary; this file only wires it.
 *
 * Values from parameters or mail never enter the sh string: it is built from constants only and
 * reads them as "$PATCHLINE_..." (single-quoted Groovy strings, so Groovy interpolates nothing).
 */
def call(Map config) {
    String step = config.step
    if (!(step in STEPS)) {
        error("patchlineStep: unknown step '${step}' (known: ${STEPS.join(', ')})")
    }
    String runDir = config.runDir ?: 'patchline-run'
    List<String> environment = [
        "PATCHLINE_CONFIG=${config.config ?: 'patchline.yaml'}",
        "PATCHLINE_RUN_DIR=${runDir}",
        "PATCHLINE_REPO=${config.repo ?: ''}",
        "PATCHLINE_BRANCH=${config.branch ?: ''}",
    ]
    int status = 0
    withEnv(environment) {
        withCredentials(config.credentials ?: []) {
            status = sh(script: stepScript(step, config), returnStatus: true, label: "patchline ${step}")
        }
    }
    String stderrFile = "${runDir}/${step}.stderr"
    String message = fileExists(stderrFile) ? lastLine(readFile(stderrFile)) : ''
    if (status == 0) {
        return 0
    }
    if (status == 3) {
        unstable("patchline ${step}: partly failed: ${message}")
        return 3
    }
    error("patchline ${step} failed (exit ${status}): ${message}")
}

@groovy.transform.Field
static final List<String> STEPS = ['harvest', 'apply', 'build', 'publish', 'report']

/** node with a larger young generation: the harvest allocates per message at a high rate (docs/decisions/harvest-gc.md). */
@groovy.transform.Field
static final String NODE = 'node --max-semi-space-size=32'

/** The sh script: constants only; stderr is kept in the run dir for the one-line message, then shown. */
static String stepScript(String step, Map config) {
    List<String> args = ['--config "$PATCHLINE_CONFIG"', '--run-dir "$PATCHLINE_RUN_DIR"']
    if (config.repo) {
        args << '--repo "$PATCHLINE_REPO"'
    }
    if (config.branch) {
        args << '--branch "$PATCHLINE_BRANCH"'
    }
    if (config.dryRun) {
        args << '--dry-run'
    }
    if (config.scratch) {
        args << '--scratch'
    }
    String stderrFile = '"$PATCHLINE_RUN_DIR/' + step + '.stderr"'
    return [
        'mkdir -p "$PATCHLINE_RUN_DIR"',
        NODE + ' dist/steps/' + step + '.js ' + args.join(' ') + ' 2>' + stderrFile,
        'rc=$?',
        'cat ' + stderrFile + ' >&2',
        'exit $rc',
    ].join('\n') + '\n'
}

static String lastLine(String text) {
    List<String> lines = text.readLines().findAll { it.trim() }
    return lines ? lines[-1].trim() : ''
}
