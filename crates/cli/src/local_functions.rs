//! A template's own Lambda functions run here, for a template that is not
//! this project's: each function as its own process behind its own Lambda
//! Runtime API, as Lambda runs it, all behind one local Lambda Invoke API:
//! a `python3.x` function under the Python runtime interface client
//! (awslambdaric), a `nodejs*` function under orderflow's own client for
//! Node.js (runtimes/node.mjs), each in its code's folder or, for code given
//! inline, beside a file named `index`; a `provided.*` function as its built
//! `bootstrap`. Task states that name one of them go there; the others go
//! where they went before (this project's handlers in-process). Functions
//! of other runtimes, and code that is not in a local folder, are said with
//! why: `--lambda-endpoint` sends every task to an Invoke API that runs them.
//! A function's layers of the template are found where Lambda's `/opt`
//! would hold them (its runtime's search paths, `PATH`, `LD_LIBRARY_PATH`,
//! a custom runtime's `bootstrap`), and, where the machine allows it, at
//! `/opt` itself, in the function's process alone (opt_folder.rs, and the
//! emulator's private_opt.rs).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use orderflow_asl::{BoxFuture, Invoker, TaskFailure};
use orderflow_definition::{FunctionLayer, StackFunction};
use orderflow_emulator::{FunctionHost, FunctionSpec};
use orderflow_value::Value;

use crate::LambdaEndpoint;

/// The Python that runs `python3.x` functions: `$ORDERFLOW_PYTHON`, else the
/// nearest `.venv/bin/python` above the current folder, else `python3` on the PATH.
pub fn python() -> PathBuf {
    if let Some(given) = std::env::var_os("ORDERFLOW_PYTHON") {
        return PathBuf::from(given);
    }
    orderflow_emulator::nearest_venv_tool("python").unwrap_or_else(|| PathBuf::from("python3"))
}

/// The Node.js that runs `nodejs*` functions: `$ORDERFLOW_NODE`, else `node` on the PATH.
fn node() -> Result<PathBuf, String> {
    let node = std::env::var_os("ORDERFLOW_NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
    let checked = std::process::Command::new(&node)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    match checked {
        Ok(out) if out.status.success() => Ok(node),
        _ => Err(format!("cannot start {} --version: set ORDERFLOW_NODE to a Node.js", node.display())),
    }
}

/// orderflow's runtime interface client for Node.js, written once to a file
/// named by its content in the temporary folder: its path.
fn node_client() -> Result<PathBuf, String> {
    const CLIENT: &str = include_str!("runtimes/node.mjs");
    // Named by its content, so that a stale copy is never run.
    let hash = CLIENT.bytes().fold(FNV_OFFSET, fnv);
    let path = std::env::temp_dir().join(format!("orderflow-node-runtime-{hash:016x}.mjs"));
    write_once(&path, CLIENT)?;
    Ok(path)
}

/// Why `python` cannot run Lambda handlers, if it cannot: it is not there, or it has no awslambdaric.
fn python_problem(python: &Path) -> Option<String> {
    let checked = std::process::Command::new(python)
        .args(["-c", "import awslambdaric"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    match checked {
        Ok(status) if status.success() => None,
        Ok(_) => Some(format!(
            "{} has no awslambdaric, the Python runtime interface client: `{} -m pip install awslambdaric` (or set ORDERFLOW_PYTHON)",
            python.display(),
            python.display()
        )),
        Err(e) => {
            Some(format!("cannot start {} ({e}): set ORDERFLOW_PYTHON to a Python with awslambdaric", python.display()))
        }
    }
}

/// A folder holding a function's inline code as Lambda places it: in a file
/// named `index` (`index.py`, `index.js`), in the temporary folder, named by
/// the function and its code.
fn inline_folder(function: &StackFunction, runtime: &str, source: &str) -> Result<PathBuf, String> {
    let file = match runtime {
        r if r.starts_with("python") => "index.py",
        r if r.starts_with("nodejs") => "index.js",
        other => return Err(format!("inline code of a {other} function does not run here")),
    };
    let hash = source.bytes().chain(function.arn.bytes()).fold(FNV_OFFSET, fnv);
    let folder = std::env::temp_dir().join(format!("orderflow-inline-{}-{hash:016x}", function.name));
    std::fs::create_dir_all(&folder).map_err(|e| format!("cannot make {}: {e}", folder.display()))?;
    write_once(&folder.join(file), source)?;
    Ok(folder)
}

/// FNV-1a, for naming files by their content.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(hash: u64, byte: u8) -> u64 {
    (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)
}

/// `text` at `path`, unless it is there already: written beside and renamed,
/// so that two servers starting at once never run half a file.
fn write_once(path: &Path, text: &str) -> Result<(), String> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    let partial = path.with_extension(format!("{}.partial", std::process::id()));
    std::fs::write(&partial, text)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The folders of a function's layers that are here, in the order Lambda
/// extracts them into `/opt`; an error names a layer whose folder is not there.
fn layer_folders(function: &StackFunction) -> Result<Vec<PathBuf>, String> {
    let mut folders = Vec::new();
    for layer in &function.layers {
        if let FunctionLayer::Local { logical_id, folder } = layer {
            let found =
                folder.canonicalize().map_err(|e| format!("its layer {logical_id}: {}: {e}", folder.display()))?;
            folders.push(found);
        }
    }
    Ok(folders)
}

/// What Lambda's `/opt/<sub>` holds for these layers: their `<sub>` folders
/// that are there, the last layer's first (in `/opt`, a later layer's files
/// replace an earlier one's).
fn opt(layers: &[PathBuf], sub: &str) -> Vec<PathBuf> {
    layers.iter().rev().map(|layer| layer.join(sub)).filter(|path| path.is_dir()).collect()
}

/// A search path (`a:b:c`) of `paths`.
fn search_path(paths: impl IntoIterator<Item = PathBuf>) -> Result<String, String> {
    let joined = std::env::join_paths(paths).map_err(|e| format!("a layer's path: {e}"))?;
    Ok(joined.to_string_lossy().into_owned())
}

/// Where a runtime finds its layers' content, as in Lambda's environment:
/// `/opt/bin` at the end of `PATH`, `/opt/lib` after the code's `lib` in
/// `LD_LIBRARY_PATH`, and the runtime's own paths (Python's `sys.path`
/// through `PYTHONPATH`, Node.js's `NODE_PATH`).
fn layer_environment(runtime: &str, code: &Path, layers: &[PathBuf]) -> Result<Vec<(String, String)>, String> {
    let mut environment = Vec::new();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let bins = opt(layers, "bin");
    if !bins.is_empty() {
        environment.push(("PATH".into(), search_path(std::env::split_paths(&path).chain(bins))?));
    }
    let libs: Vec<PathBuf> = [code.join("lib")].into_iter().filter(|p| p.is_dir()).chain(opt(layers, "lib")).collect();
    if !libs.is_empty() {
        environment.push(("LD_LIBRARY_PATH".into(), search_path(libs)?));
    }
    if let Some(version) = runtime.strip_prefix("python") {
        // sys.path: the code, then /opt/python/lib/python3.x/site-packages, then /opt/python.
        let site = opt(layers, &format!("python/lib/python{version}/site-packages"));
        let paths = std::iter::once(code.to_owned()).chain(site).chain(opt(layers, "python"));
        environment.push(("PYTHONPATH".into(), search_path(paths)?));
    } else if let Some(version) = runtime.strip_prefix("nodejs") {
        // Lambda's NODE_PATH: /opt/nodejs/nodeNN/node_modules, /opt/nodejs/node_modules, ..., the code.
        let major = version.trim_end_matches(".x");
        let own = opt(layers, &format!("nodejs/node{major}/node_modules"));
        let paths = own.into_iter().chain(opt(layers, "nodejs/node_modules")).chain([code.to_owned()]);
        environment.push(("NODE_PATH".into(), search_path(paths)?));
    }
    Ok(environment)
}

/// How one function runs here, with its layers' folders (in Lambda's
/// order), or why it does not.
fn spec_of(
    function: &StackFunction,
    python: &dyn Fn() -> Result<PathBuf, String>,
    node: &dyn Fn() -> Result<(PathBuf, PathBuf), String>,
) -> Result<(FunctionSpec, Vec<PathBuf>), String> {
    if let Some(problem) = &function.problem {
        return Err(problem.clone());
    }
    let runtime = function.runtime.as_deref().ok_or("it names no Runtime")?;
    let written;
    let code = match (&function.code, &function.inline) {
        (Some(code), _) => code,
        (None, Some(source)) => {
            written = inline_folder(function, runtime, source)?;
            &written
        }
        (None, None) => return Err("it has no code folder".into()),
    };
    // Absolute: the function runs in it and is told it (LAMBDA_TASK_ROOT).
    let code = &code.canonicalize().map_err(|e| format!("its code folder {}: {e}", code.display()))?;
    if !code.is_dir() {
        return Err(format!("its code folder {} is not a folder", code.display()));
    }
    let layers = layer_folders(function)?;
    let mut environment = function.environment.clone();
    environment.push(("LAMBDA_TASK_ROOT".into(), code.display().to_string()));
    environment.push(("AWS_EXECUTION_ENV".into(), format!("AWS_Lambda_{runtime}")));
    environment.push(("AWS_LAMBDA_FUNCTION_TIMEOUT".into(), function.timeout.to_string()));
    environment.push(("AWS_LAMBDA_LOG_FORMAT".into(), function.log_format.clone()));
    if let Some(handler) = &function.handler {
        environment.push(("_HANDLER".into(), handler.clone()));
    }
    environment.extend(layer_environment(runtime, code, &layers)?);
    let (binary, args) = if runtime.starts_with("python3") {
        let handler = function.handler.clone().ok_or("it names no Handler")?;
        environment.push(("PYTHONUNBUFFERED".into(), "1".into()));
        // Lambda's code folder is read-only: nothing is written beside the user's code.
        environment.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
        (python()?, vec!["-m".to_owned(), "awslambdaric".to_owned(), handler])
    } else if runtime.starts_with("nodejs") {
        function.handler.as_ref().ok_or("it names no Handler")?;
        let (node, client) = node()?;
        (node, vec![client.display().to_string()])
    } else if runtime.starts_with("provided") {
        // The code's bootstrap, else the one a layer puts in /opt.
        let in_layers = layers.iter().rev().map(|layer| layer.join("bootstrap"));
        let Some(bootstrap) = std::iter::once(code.join("bootstrap")).chain(in_layers).find(|b| b.is_file()) else {
            return Err(format!(
                "{runtime}: no bootstrap in {} or its layers (build it first, e.g. `sam build`, and serve .aws-sam/build/template.yaml)",
                code.display()
            ));
        };
        (bootstrap, Vec::new())
    } else {
        return Err(format!(
            "{runtime} functions do not run here; --lambda-endpoint sends tasks to a Lambda Invoke API that runs them"
        ));
    };
    let spec = FunctionSpec {
        name: function.name.clone(),
        arn: function.arn.clone(),
        binary,
        args,
        dir: Some(code.clone()),
        environment,
        memory_size: function.memory_size,
        timeout: Some(function.timeout),
        reserved_concurrency: function.reserved_concurrency,
        opt: None,
    };
    Ok((spec, layers))
}

/// The folder a function's process sees at `/opt` (its layers, merged when
/// several, and whether it was made here), or why its layers are not there.
fn at_opt(spec: &FunctionSpec, layers: &[PathBuf]) -> Result<Option<(PathBuf, bool)>, String> {
    use orderflow_emulator::private_opt;
    if layers.is_empty() {
        return Ok(None);
    }
    private_opt::available()?;
    // What the function needs must not be under the /opt its own would hide:
    // neither where it is named (a virtual environment's python) nor where it leads.
    let binary = on_path(&spec.binary);
    let needed = std::iter::once(&binary).chain(&spec.dir).chain(layers);
    let mut paths = needed.flat_map(|p| [p.clone(), p.canonicalize().unwrap_or_else(|_| p.clone())]);
    if let Some(hidden) = paths.find(|p| private_opt::under_opt(p)) {
        return Err(format!("{} is under /opt, which its own /opt would hide", hidden.display()));
    }
    crate::opt_folder::opt_folder(layers, &spec.name)
}

/// `program` as the PATH finds it, when it is a bare name.
fn on_path(program: &Path) -> PathBuf {
    if program.components().count() > 1 {
        return program.to_owned();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| program.to_owned())
}

/// The functions of a stack that run here, behind one local Invoke API.
pub struct LocalFunctions {
    host: FunctionHost,
    endpoint: LambdaEndpoint,
    /// The `/opt` folders merged here for functions with several layers.
    merged: Vec<PathBuf>,
}

impl Drop for LocalFunctions {
    fn drop(&mut self) {
        for folder in &self.merged {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}

impl LocalFunctions {
    /// Starts every function of `functions` that is not this project's own
    /// (those run in-process) and can run here, their AWS calls sent to
    /// `aws`; a line for each function, run here or not (with why). None when none runs here.
    pub async fn start(functions: &[StackFunction], aws: &str) -> (Option<LocalFunctions>, Vec<String>) {
        let mut said = Vec::new();
        let mut specs = Vec::new();
        let mut merged = Vec::new();
        // Looked for and checked once, when a function needs it.
        let checked = std::cell::OnceCell::new();
        let python = || {
            checked
                .get_or_init(|| {
                    let python = python();
                    python_problem(&python).map_or(Ok(python), Err)
                })
                .clone()
        };
        let checked_node = std::cell::OnceCell::new();
        let node = || checked_node.get_or_init(|| Ok((node()?, node_client()?))).clone();
        for function in functions.iter().filter(|f| f.binary.is_none()) {
            let runtime = function.runtime.as_deref().unwrap_or("no runtime");
            match spec_of(function, &python, &node) {
                Ok((mut spec, layers)) => {
                    let mut line = format!(
                        "function {} ({runtime}) runs here: {} {}",
                        function.name,
                        spec.binary.display(),
                        spec.args.join(" ")
                    );
                    match at_opt(&spec, &layers) {
                        Ok(None) => {}
                        Ok(Some((folder, made))) => {
                            line.push_str("; its layers at /opt, its own");
                            if made {
                                merged.push(folder.clone());
                            }
                            spec.opt = Some(folder);
                        }
                        Err(why) => line.push_str(&format!(
                            "; its layers not at /opt ({why}): its runtime's search paths find them"
                        )),
                    }
                    for layer in &function.layers {
                        if let FunctionLayer::Elsewhere { arn, why } = layer {
                            line.push_str(&format!("; its layer {arn} is not here ({why}): what it holds is missing"));
                        }
                    }
                    said.push(line);
                    specs.push(spec);
                }
                Err(why) => said.push(format!("function {} ({runtime}) does not run here: {why}", function.name)),
            }
        }
        let forget = |merged: &[PathBuf]| {
            for folder in merged {
                let _ = std::fs::remove_dir_all(folder);
            }
        };
        if specs.is_empty() {
            forget(&merged);
            return (None, said);
        }
        let host = match FunctionHost::start_unrecorded(specs, aws).await {
            Ok(host) => host,
            Err(e) => {
                said.push(format!("the template's functions could not start: {e}"));
                forget(&merged);
                return (None, said);
            }
        };
        match LambdaEndpoint::new(host.endpoint()) {
            Ok(endpoint) => (Some(LocalFunctions { host, endpoint, merged }), said),
            Err(e) => {
                said.push(format!("the template's functions could not be reached: {e}"));
                forget(&merged);
                (None, said)
            }
        }
    }

    /// Its Lambda Invoke API: `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        self.host.endpoint()
    }

    /// Whether `function` (a name, an ARN or a partial ARN, with or without a qualifier) is one of these.
    fn runs(&self, function: &str) -> bool {
        let name = match function.split_once(":function:") {
            Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
            None => function.split(':').next().unwrap_or(function),
        };
        self.host.functions().any(|(n, _)| n == name)
    }

    /// An invoker that sends tasks naming these functions here, and the others to `rest`.
    pub fn before(self, rest: Arc<dyn Invoker>) -> Arc<dyn Invoker> {
        Arc::new(Routed { here: self, rest })
    }
}

/// Tasks for the functions run here go to their Invoke API; the others to `rest`.
struct Routed {
    here: LocalFunctions,
    rest: Arc<dyn Invoker>,
}

impl Invoker for Routed {
    fn invoke<'a>(&'a self, function: &'a str, payload: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        match self.here.runs(function) {
            true => self.here.endpoint.invoke(function, payload),
            false => self.rest.invoke(function, payload),
        }
    }

    fn invoke_tail<'a>(
        &'a self,
        function: &'a str,
        payload: &'a Value,
    ) -> BoxFuture<'a, Result<(Value, Option<String>), TaskFailure>> {
        match self.here.runs(function) {
            true => self.here.endpoint.invoke_tail(function, payload),
            false => self.rest.invoke_tail(function, payload),
        }
    }
}

#[cfg(test)]
mod tests {
    use orderflow_definition::{FunctionLayer, StackFunction};
    use orderflow_emulator::FunctionSpec;
    use std::path::PathBuf;

    #[test]
    fn layers_are_not_put_at_opt_over_code_that_is_itself_under_opt() {
        let spec = FunctionSpec {
            name: "Kept".into(),
            arn: "arn:aws:lambda:us-east-1:123456789012:function:Kept".into(),
            binary: PathBuf::from("sh"),
            args: Vec::new(),
            dir: Some(PathBuf::from("/opt/orderflow-app-that-is-not-here/functions/kept")),
            environment: Vec::new(),
            timeout: None,
            memory_size: 128,
            reserved_concurrency: None,
            opt: None,
        };
        let layer = std::env::temp_dir();
        // No layers: nothing at /opt, and nothing to say.
        assert_eq!(super::at_opt(&spec, &[]), Ok(None));
        assert_eq!(
            super::at_opt(&spec, std::slice::from_ref(&layer)),
            Err("/opt/orderflow-app-that-is-not-here/functions/kept is under /opt, which its own /opt would hide"
                .into())
        );
        let elsewhere = FunctionSpec { dir: Some(layer.clone()), ..spec };
        assert_eq!(super::at_opt(&elsewhere, std::slice::from_ref(&layer)), Ok(Some((layer.clone(), false))));
        // A runtime named under /opt (a virtual environment's python there), wherever it leads.
        let venv = PathBuf::from("/opt/orderflow-venv-that-is-not-here/bin/python");
        let under = FunctionSpec { binary: venv.clone(), ..elsewhere };
        assert_eq!(
            super::at_opt(&under, std::slice::from_ref(&layer)),
            Err(format!("{} is under /opt, which its own /opt would hide", venv.display()))
        );
    }

    #[test]
    fn a_layer_whose_folder_is_not_there_is_said_by_name_and_the_function_does_not_run() {
        let code = std::env::temp_dir();
        let missing = code.join(format!("orderflow-no-layer-{}", std::process::id()));
        let function = StackFunction {
            logical_id: "Layered".into(),
            name: "Layered".into(),
            arn: "arn:aws:lambda:us-east-1:123456789012:function:Layered".into(),
            runtime: Some("python3.12".into()),
            handler: Some("app.handler".into()),
            code: Some(code),
            inline: None,
            environment: Vec::new(),
            memory_size: 128,
            timeout: 3,
            log_format: "Text".into(),
            binary: None,
            reserved_concurrency: None,
            layers: vec![FunctionLayer::Local { logical_id: "Shared".into(), folder: missing.clone() }],
            problem: None,
        };
        let unused = || -> Result<PathBuf, String> { unreachable!("the layer is checked first") };
        let unused_node = || -> Result<(PathBuf, PathBuf), String> { unreachable!("not a Node.js function") };
        let refused = super::spec_of(&function, &unused, &unused_node).unwrap_err();
        let expected = format!("its layer Shared: {}: No such file or directory (os error 2)", missing.display());
        assert_eq!(refused, expected);
    }
}
