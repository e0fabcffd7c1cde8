/**
 * Upstream packaging and tracking, for a team's second two-line Jenkinsfile (docs/jenkins.md):
 *   @Library('patchline') _
 *   patchlineUpstreamPipeline(config: 'patchline.yaml', stateDir: '/var/lib/patchline/rdo', credentials: [smtp: 'mail-relay'])
 * Every hour (cron), "Build Now" with the defaults, or one project by parameter: the upstream
 * packaging run, then the tracking scan.
 */
import groovy.transform.Field

@Field
static final List<String> OPTIONS = ['config', 'credentials', 'stateDir', 'label', 'cron', 'toolDir', 'fromCheckout']

def call(Map config = [:]) {
    for (Object option in config.keySet()) {
        if (!(option in OPTIONS)) {
            error("patchlineUpstreamPipeline: unknown option '${option}' (known: ${OPTIONS.join(', ')}; docs/jenkins.md)")
        }
    }
    Map fixed = config.subMap(['credentials', 'stateDir', 'toolDir', 'fromCheckout'])
    // read when a stage runs: the parameters of this build; a pull-request build (CHANGE_ID) is always a dry run
    Closure settings = { fixed + [config: params.CONFIG, project: params.PROJECT, headOnly: params.HEAD_ONLY, dryRun: params.DRY_RUN || (env.CHANGE_ID as boolean)] }
    pipeline {
        agent {
            label(config.label ?: '')
        }
        options {
            disableConcurrentBuilds()
            buildDiscarder(logRotator(numToKeepStr: '200'))
        }
        triggers {
            cron(config.cron ?: 'H * * * *')
        }
        parameters {
            string(name: 'PROJECT', defaultValue: '', description: 'Only this upstream project (empty: all projects)')
            booleanParam(name: 'HEAD_ONLY', defaultValue: false, description: 'Build only the newest commit of each project (a failure is still bisected)')
            booleanParam(name: 'DRY_RUN', defaultValue: false, description: 'Say what would be built; build, publish and mail nothing (the tracking scan is skipped)')
            string(name: 'CONFIG', defaultValue: config.config ?: 'patchline.yaml', description: 'Path of patchline.yaml in the checkout')
        }
        stages {
            stage('Prepare') {
                steps {
                    patchlineTool(settings())
                }
            }
            stage('Upstream') {
                steps {
                    patchlineUpstream(settings())
                }
            }
            stage('Track') {
                when {
                    expression { !settings().dryRun && !settings().project }
                }
                steps {
                    patchlineTrackScan(settings())
                }
            }
        }
    }
}
