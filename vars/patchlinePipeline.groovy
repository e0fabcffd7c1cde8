/**
 * The whole patchline pipeline, for a team's two-line Jenkinsfile (docs/jenkins.md):
 *   @Library('patchline') _
 *   patchlinePipeline(config: 'patchline.yaml', stateDir: '/var/lib/patchline/hello', credentials: [imap: 'hello-imap'])
 * Nightly at 02:xx, "Build Now" with the defaults, or one repo/branch by parameters; every stage
 * runs the patchline installed on the agent.
 */
import groovy.transform.Field

@Field
static final List<String> OPTIONS = ['config', 'credentials', 'stateDir', 'label', 'cron', 'toolDir', 'fromCheckout']

def call(Map config = [:]) {
    for (Object option in config.keySet()) {
        if (!(option in OPTIONS)) {
            error("patchlinePipeline: unknown option '${option}' (known: ${OPTIONS.join(', ')}; docs/jenkins.md)")
        }
    }
    Map fixed = config.subMap(['credentials', 'stateDir', 'toolDir', 'fromCheckout'])
    // read when a stage runs: the parameters of this build, on the agent; a pull-request build (CHANGE_ID) is always a dry run
    Closure settings = { fixed + [config: params.CONFIG, repo: params.REPO, branch: params.BRANCH, dryRun: params.DRY_RUN || (env.CHANGE_ID as boolean), scratch: params.SCRATCH] }
    pipeline {
        agent {
            label(config.label ?: '')
        }
        options {
            disableConcurrentBuilds()
            buildDiscarder(logRotator(numToKeepStr: '90'))
        }
        triggers {
            cron(config.cron ?: 'H 2 * * *')
        }
        parameters {
            string(name: 'REPO', defaultValue: '', description: 'Only this configured repo (empty: all repos)')
            string(name: 'BRANCH', defaultValue: '', description: 'Only this configured branch of REPO (empty: all branches)')
            booleanParam(name: 'DRY_RUN', defaultValue: false, description: 'Change nothing outside the run dir: no push, no publish, no mail')
            booleanParam(name: 'SCRATCH', defaultValue: false, description: 'Koji scratch builds')
            string(name: 'CONFIG', defaultValue: config.config ?: 'patchline.yaml', description: 'Path of patchline.yaml in the checkout')
        }
        stages {
            stage('Prepare') {
                steps {
                    patchlineTool(settings())
                }
            }
            stage('Harvest') {
                steps {
                    patchlineHarvest(settings())
                }
            }
            stage('Apply') {
                steps {
                    patchlineApply(settings())
                }
            }
            stage('Build') {
                steps {
                    patchlineBuild(settings())
                }
            }
            stage('Test') {
                steps {
                    patchlineTest(settings())
                }
            }
            stage('Publish') {
                steps {
                    patchlinePublish(settings())
                }
            }
        }
        post {
            always {
                patchlineReport(settings())
            }
        }
    }
}
