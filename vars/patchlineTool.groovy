/**
 * Prepare stage: finds the patchline installed on the agent and prints its version, so a build
 * on an agent without it fails first, saying what to do. With fromCheckout (patchline's own
 * Jenkinsfile, for trying it out) it first builds and installs patchline from the checkout.
 */
import groovy.transform.Field

/** Where fromCheckout installs: an npm prefix in the workspace. */
@Field
static final String CHECKOUT_PREFIX = '.patchline-tool'

/** npm's own install of the packed tarball, as on an agent (docs/jenkins.md); constants only. */
@Field
static final String INSTALL_FROM_CHECKOUT = '''rm -rf .patchline-tool
mkdir .patchline-tool
npm ci --no-audit --no-fund
npm run build
npm pack --pack-destination .patchline-tool
npm install --global --no-audit --no-fund --prefix .patchline-tool .patchline-tool/patchline-*.tgz
'''

def call(Map config = [:]) {
    withEnv(pathEntries(config)) {
        if (config.fromCheckout) {
            sh(script: INSTALL_FROM_CHECKOUT, label: 'install patchline from this checkout')
        }
        int status = sh(script: 'patchline --version', returnStatus: true, label: 'patchline --version')
        if (status != 0) {
            error("patchline: `patchline --version` failed (exit ${status}): install patchline on this agent (npm install -g patchline-<version>.tgz, or the patchline RPM), or give toolDir (docs/jenkins.md)")
        }
    }
}

/** The PATH entry that finds patchline: toolDir, or where fromCheckout installs; none = the agent's PATH. */
List<String> pathEntries(Map config) {
    String dir = config.toolDir ?: (config.fromCheckout ? "${env.WORKSPACE}/${CHECKOUT_PREFIX}/bin" : null)
    return dir ? ["PATH+PATCHLINE=${dir}".toString()] : []
}
