// orderflow's runtime interface client for Node.js functions: what Lambda's
// own client does for a `nodejs*` function, over the Lambda Runtime API at
// AWS_LAMBDA_RUNTIME_API. It loads `_HANDLER` (`app.lambdaHandler`: the
// module app.mjs, app.js or app.cjs in the working folder, and its export
// lambdaHandler), then takes one invocation at a time: the handler is
// awaited (or its callback waited for), its result posted as JSON, or its
// error as Lambda's Node.js runtime shapes it (errorType, errorMessage,
// trace). A module or handler that cannot be loaded is reported to
// /init/error as Runtime.ImportModuleError or Runtime.HandlerNotFound.
// console.* lines are written as Lambda writes them: time, request id, level.

import { existsSync } from "node:fs";
import { register } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { format } from "node:util";

// ES modules do not read NODE_PATH; Lambda's Node.js 18 and later resolve
// an ES module's bare import from its layers too. A package not found from
// the importing module is looked for in each NODE_PATH folder, in order.
const searchPath = (process.env.NODE_PATH ?? "").split(":").filter(Boolean);
if (searchPath.length > 0) {
  const hooks = `
    import { pathToFileURL } from "node:url";
    let folders = [];
    export async function initialize(data) { folders = data.folders; }
    export async function resolve(specifier, context, next) {
      try {
        return await next(specifier, context);
      } catch (error) {
        const bare = !/^(\\.|\\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);
        if (error?.code !== "ERR_MODULE_NOT_FOUND" || !bare) throw error;
        for (const folder of folders) {
          try {
            return await next(specifier, { ...context, parentURL: pathToFileURL(folder + "/").href });
          } catch {}
        }
        throw error;
      }
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { folders: searchPath } });
}

const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;
const handlerName = process.env._HANDLER ?? "";
const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
let requestId = "";

for (const [method, level] of [["log", "INFO"], ["info", "INFO"], ["warn", "WARN"], ["error", "ERROR"], ["debug", "DEBUG"], ["trace", "TRACE"]]) {
  console[method] = (...args) => {
    const line = format(...args).replace(/\n/g, "\r");
    process.stdout.write(`${new Date().toISOString()}\t${requestId || "undefined"}\t${level}\t${line}\n`);
  };
}

function payload(error) {
  if (error instanceof Error || (error && typeof error === "object" && "message" in error && "stack" in error)) {
    return {
      errorType: error.name ?? error.constructor?.name ?? "Error",
      errorMessage: String(error.message),
      trace: String(error.stack ?? "").split("\n"),
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

async function post(path, body, headers = {}) {
  await fetch(`${api}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

async function load() {
  const dot = handlerName.lastIndexOf(".");
  if (dot < 1) {
    const error = new Error(`Bad handler ${handlerName}: the handler is MODULE.FUNCTION`);
    error.name = "Runtime.MalformedHandlerName";
    throw error;
  }
  const [modulePath, exported] = [handlerName.slice(0, dot), handlerName.slice(dot + 1)];
  const file = [".js", ".mjs", ".cjs"].map((ext) => join(root, modulePath + ext)).find((f) => existsSync(f));
  if (!file) {
    const error = new Error(`Error: Cannot find module '${modulePath}'`);
    error.name = "Runtime.ImportModuleError";
    throw error;
  }
  let loaded;
  try {
    loaded = await import(pathToFileURL(file).href);
  } catch (cause) {
    const error = new Error(`${cause?.name ?? "Error"}: ${cause?.message ?? cause}`);
    error.name = "Runtime.ImportModuleError";
    error.stack = cause?.stack ?? error.stack;
    throw error;
  }
  const handler = loaded[exported] ?? loaded.default?.[exported];
  if (typeof handler !== "function") {
    const error = new Error(`${handlerName} is undefined or not exported`);
    error.name = "Runtime.HandlerNotFound";
    throw error;
  }
  return handler;
}

function context(headers) {
  const deadline = Number(headers.get("lambda-runtime-deadline-ms") ?? 0);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? "$LATEST",
    invokedFunctionArn: headers.get("lambda-runtime-invoked-function-arn"),
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function call(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    ctx.done = callback;
    ctx.succeed = (result) => resolve(result);
    ctx.fail = (error) => reject(error);
    try {
      const returned = handler(event, ctx, callback);
      if (returned && typeof returned.then === "function") returned.then(resolve, reject);
      else if (handler.length < 3) resolve(returned);
    } catch (error) {
      reject(error);
    }
  });
}

let handler;
try {
  handler = await load();
} catch (error) {
  const body = payload(error);
  await post("init/error", JSON.stringify(body), { "lambda-runtime-function-error-type": body.errorType });
  process.exit(129);
}

for (;;) {
  const next = await fetch(`${api}/invocation/next`);
  requestId = next.headers.get("lambda-runtime-aws-request-id") ?? "";
  const text = await next.text();
  let event;
  try {
    event = JSON.parse(text);
  } catch {
    event = text;
  }
  try {
    const result = await call(handler, event, context(next.headers));
    await post(`invocation/${requestId}/response`, JSON.stringify(result === undefined ? null : result));
  } catch (error) {
    const body = payload(error);
    await post(`invocation/${requestId}/error`, JSON.stringify(body), {
      "lambda-runtime-function-error-type": body.errorType,
    });
  }
  requestId = "";
}
