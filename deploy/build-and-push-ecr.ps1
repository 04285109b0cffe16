<#
.SYNOPSIS
  Build, push, register and run the conflict updater on ECS: a thin wrapper around
  `npx conflict-updater deploy`, which does the work (and runs the same on macOS and Linux).

.DESCRIPTION
  Five steps, each with a Y/n prompt: SSO login, docker build, push to ECR (latest and a UTC
  timestamp tag), register the task definition from deploy/ecs-task-definition.json and
  deploy/.env (a masked summary first), run a task (menu: default pipeline, one action, a list).
  Every argument is passed on, so the flags of the tool work here too:

    .\deploy\build-and-push-ecr.ps1
    .\deploy\build-and-push-ecr.ps1 --yes --skip-login --action test_connections --wait
    .\deploy\build-and-push-ecr.ps1 --dry-run --yes
    .\deploy\build-and-push-ecr.ps1 --help

  Quote a list of actions: PowerShell would otherwise split a,b into two arguments.

    .\deploy\build-and-push-ecr.ps1 --action "validate_config,test_connections"

  Prerequisites:
    - Node.js 24 (.nvmrc), and `npm ci` run once in the repository
    - Docker Desktop, running (steps 2 and 3)
    - AWS CLI v2 with an SSO profile (aws configure sso) (step 1)
    - deploy/.env filled in from deploy/.env.example
    - the AWS resources: `cdk deploy` in infra/, or the console steps of docs/deployment.md

  Exit code: the tool's (0 done, 1 a step failed, 2 usage or deploy/.env error, 130 interrupted).
#>
$ErrorActionPreference = 'Stop'
$repoRoot = Split-Path -Parent $PSScriptRoot
Push-Location $repoRoot
try {
    # --no: use the project's own conflict-updater, never fetch a package of that name.
    & npx --no conflict-updater deploy @args
    $code = $LASTEXITCODE
}
finally {
    Pop-Location
}
exit $code
