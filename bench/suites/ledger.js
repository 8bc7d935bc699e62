// The event-sourced ledger under contention: 1,000 concurrent commands (deposits and
// withdrawals, through the HTTP API) on 10 accounts, spread over two instances of a generated
// service. Reports commands/s, the optimistic-concurrency retries (the instances' own counters)
// and checks the invariant afterwards: for every account, the read model's balance and version
// are what the accepted commands add up to, the log holds one event per accepted command with
// versions 1..n, and a replay of the log gives the read model. fetch's pool opens a connection
// per request in flight, so every command is in flight at once, as 1,000 clients would be.
import pg from 'pg'
import { median, waitForQuiet } from '../lib.js'
import { postJson, servedProject, signUp, statsOf } from '../service.js'

const ACCOUNTS = 10
const COMMANDS = 1_000
const ROUNDS = 5
const FUNDING = 100_000

const round1 = (x) => Math.round(x * 10) / 10

export const description = `${COMMANDS} concurrent ledger commands on ${ACCOUNTS} accounts over two instances: commands/s, retries, invariant`

export async function run() {
  const loadBefore = await waitForQuiet()
  const project = await servedProject('ledger', ['--recipes', 'events'])
  try {
    const instances = [await project.start(), await project.start()]
    const owner = await signUp(instances[0].base, 'bench_owner')
    const accounts = []
    for (let i = 0; i < ACCOUNTS; i++) {
      const account = await postJson(`${instances[0].base}/api/accounts`, {}, owner.headers)
      await postJson(
        `${instances[0].base}/api/accounts/${account.id}/deposits`,
        { amount: FUNDING },
        owner.headers,
      )
      accounts.push({ id: account.id, expected: FUNDING, accepted: 1 })
    }

    const rounds = []
    // One unmeasured round first: JIT, the pools' connections, the projections' first batches.
    for (let round = -1; round < ROUNDS; round++) {
      const before = await Promise.all(instances.map(statsOf))
      const commands = Array.from({ length: COMMANDS }, (_, i) => ({
        account: accounts[i % ACCOUNTS],
        instance: instances[Math.floor(i / ACCOUNTS) % 2],
        kind: Math.random() < 0.5 ? 'deposits' : 'withdrawals',
        amount: 1 + Math.floor(Math.random() * 100),
      }))
      const started = performance.now()
      const statuses = await Promise.all(
        commands.map(async (command) => {
          const res = await fetch(
            `${command.instance.base}/api/accounts/${command.account.id}/${command.kind}`,
            {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...owner.headers },
              body: JSON.stringify({ amount: command.amount }),
            },
          )
          const body = await res.json()
          if (res.status === 201) {
            command.account.expected +=
              command.kind === 'deposits' ? command.amount : -command.amount
            command.account.accepted++
          }
          return res.status === 201 ? 201 : `${res.status} ${body.error?.code}`
        }),
      )
      const seconds = (performance.now() - started) / 1_000
      const after = await Promise.all(instances.map(statsOf))
      const count = (status) => statuses.filter((s) => s === status).length
      if (round < 0) continue
      rounds.push({
        commandsPerSecond: Math.round(COMMANDS / seconds),
        accepted: count(201),
        refused: Object.fromEntries(
          [...new Set(statuses.filter((s) => s !== 201))].map((status) => [status, count(status)]),
        ),
        retries: after.reduce((sum, s, i) => sum + s.ledger.retries - before[i].ledger.retries, 0),
        lostRaces: after.reduce(
          (sum, s, i) => sum + s.ledger.lostRaces - before[i].ledger.lostRaces,
          0,
        ),
        serverCpuMicrosPerCommand: Math.round(
          after.reduce((sum, s, i) => sum + s.cpuMicros - before[i].cpuMicros, 0) / COMMANDS,
        ),
      })
    }

    const invariant = await checkInvariant(project, instances[1].base, owner, accounts)
    return {
      accounts: ACCOUNTS,
      commandsPerRound: COMMANDS,
      instances: 2,
      loadAverageBefore: loadBefore,
      commandsPerSecond: median(rounds.map((r) => r.commandsPerSecond)),
      retriesPerRound: median(rounds.map((r) => r.retries)),
      retriesPerCommand: round1(median(rounds.map((r) => r.retries)) / COMMANDS),
      serverCpuMicrosPerCommand: median(rounds.map((r) => r.serverCpuMicrosPerCommand)),
      rounds,
      invariant,
    }
  } finally {
    await project.cleanup()
  }
}

/** Read model = what the accepted commands add up to = a replay; versions 1..n, no gap. */
async function checkInvariant(project, base, owner, accounts) {
  const client = new pg.Client({ connectionString: project.databaseUrl })
  await client.connect()
  try {
    const problems = []
    for (const account of accounts) {
      const read = await (
        await fetch(`${base}/api/accounts/${account.id}`, { headers: owner.headers })
      ).json()
      const { rows } = await client.query(
        `select count(*)::int as events, min(version) as first, max(version) as last,
           sum(case type when 'FundsDeposited' then (data->>'amount')::bigint
                         when 'FundsWithdrawn' then -(data->>'amount')::bigint else 0 end)::bigint as replayed
         from events where stream_id = $1`,
        [account.id],
      )
      const log = rows[0]
      const expectedEvents = account.accepted + 1 // + AccountOpened
      const checks = {
        readModelBalance: read.balance === account.expected,
        replayedBalance: Number(log.replayed) === account.expected,
        oneEventPerAcceptedCommand: log.events === expectedEvents,
        versionsWithoutGaps: log.first === 1 && log.last === log.events,
        readModelVersion: read.version === log.last,
        neverNegative: account.expected >= 0,
      }
      for (const [name, ok] of Object.entries(checks))
        if (!ok) problems.push(`${account.id}: ${name}`)
    }
    return { holds: problems.length === 0, problems }
  } finally {
    await client.end()
  }
}

export function summary(r) {
  return [
    `${r.commandsPerRound} concurrent commands on ${r.accounts} accounts, ${r.instances} instances (load average before: ${r.loadAverageBefore})`,
    `${r.commandsPerSecond} commands/s (median of ${r.rounds.length} rounds), ${r.retriesPerRound} optimistic retries per round (${r.retriesPerCommand} per command), ${r.serverCpuMicrosPerCommand} µs server CPU per command`,
    `per round: ${r.rounds.map((x) => `${x.commandsPerSecond}/s, ${x.accepted} accepted, ${x.retries} retries, ${x.lostRaces} lost races`).join('; ')}`,
    `invariant: ${r.invariant.holds ? 'holds' : `BROKEN: ${r.invariant.problems.join(', ')}`}`,
  ].join('\n')
}
