/**
 * The whole patchline pipeline in one line, for a team's own Jenkinsfile:
 *   patchlinePipeline(config: 'patchline.yaml', imapCredentialsId: 'list-imap')
 * The same stages, parameters and triggers as this repo's Jenkinsfile (test/groovy checks they agree).
 */
def call(Map config = [:]) {
    Map credentials = config.subMap(['imapCredentialsId', 'kojiCredentialsId', 'smtpCredentialsId'])
    Closure settings = { credentials + [config: params.CONFIG, repo: params.REPO, branch: params.BRANCH, dryRun: params.DRY_RUN, scratch: params.SCRATCH] }
    pipeline {
        agent any
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
                    sh 'npm ci --no-audit --no-fund && npm run build'
                    dir('patchline-run') {
                        deleteDir()
                    }
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
