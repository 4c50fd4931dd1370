// What both SDK scripts share: reading the environment, and the one line of JSON they print.
// A script prints exactly one JSON line on stdout and exits 0, whether the SDK call succeeded
// ({ok: true, ...}) or the SDK raised ({ok: false, ...}); it exits non-zero only when it could not
// run the call at all (a missing or malformed variable), which is a bug in the test that ran it.

/** A required variable. */
export function required(name) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    usage(`${name} is required`);
  }
  return v;
}

/** An optional variable as parsed JSON, or the fallback when unset or empty. */
export function json(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    return fallback;
  }
  try {
    return JSON.parse(v);
  } catch (e) {
    usage(`${name} is not JSON: ${e.message}`);
  }
}

/** An optional boolean variable: "true" or "false" (or unset for the fallback). */
export function bool(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    return fallback;
  }
  if (v !== 'true' && v !== 'false') {
    usage(`${name} must be true or false, got ${v}`);
  }
  return v === 'true';
}

/** An optional positive integer variable. */
export function int(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    return fallback;
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    usage(`${name} must be a non-negative integer, got ${v}`);
  }
  return n;
}

function usage(message) {
  process.stderr.write(`${process.argv[1]}: ${message}\n`);
  process.exit(2);
}

export function print(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

/**
 * What the SDK raised, as the tests assert it: the SDK's error class (RateLimitError, NotFoundError,
 * APIConnectionError, ... or a plain TypeError/SyntaxError when the SDK could not make sense of a
 * response), the HTTP status (null when there was none), and what the error body said.
 */
export function failure(e, partial) {
  return {
    ok: false,
    status: typeof e?.status === 'number' ? e.status : null,
    name: e?.constructor?.name ?? 'Error',
    message: String(e?.message ?? e),
    type: e?.type ?? null,
    code: e?.code ?? null,
    param: e?.param ?? null,
    request_id: e?.requestID ?? null,
    body: e?.error ?? null,
    ...partial,
  };
}
