//! orderflow: the order workflow on a laptop (`orderflow --help`). This file
//! only wires the commands; their pieces live in the library.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aws_sdk_dynamodb::types::AttributeValue;
use clap::{ArgAction, Args, CommandFactory, Parser, Subcommand, ValueEnum};
use orderflow::local_aws::LocalAws;
use orderflow::{LambdaEndpoint, Loaded, load, resolve, workspace_root};
use orderflow_asl::{
    Clock, Execution, ExecutionOptions, ExecutionStatus, Executor, Invoker, RealClock, VirtualClock, trace,
};
use orderflow_integrations::Integrations;
use serde_json::{Value, json};

// The executor allocates many small JSON nodes. Measured on the in-process order
// workflow (one thread, `orderflow-bench --profile order 3`): 21,400 executions/s
// with glibc's malloc, 30,900 with mimalloc (then through the mimalloc crate,
// whose aligned calls orderflow-alloc avoids).
#[global_allocator]
static ALLOCATOR: orderflow_alloc::Mimalloc = orderflow_alloc::Mimalloc;

/// The order workflow on a laptop: run the real state machine locally, lint it, draw it.
#[derive(Parser)]
#[command(name = "orderflow", version, propagate_version = true)]
struct Cli {
    /// More output on stderr: -v for info, -vv for debug (RUST_LOG, when set, decides instead).
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    /// Colour the status and the errors.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one execution of the state machine locally and print its history,
    /// its output and the stored order. Exit 0 on SUCCEEDED, 1 otherwise.
    ///
    /// Tasks call the function handlers in-process (default) or a Lambda Invoke
    /// API such as `cargo lambda watch` (--lambda-endpoint). In-process, AWS is
    /// the local emulator (moto, started here) unless AWS_ENDPOINT_URL,
    /// ORDERS_TABLE and NOTIFICATION_TOPIC_ARN are set.
    Run(RunArgs),
    /// Parse the definition and run the static checks; findings as file:line:column.
    Lint(LintArgs),
    /// Print a Mermaid flowchart of the state machine.
    Graph(GraphArgs),
    /// Run a file of workflow test cases (tasks mocked in Step Functions Local's
    /// MockConfigFile format, virtual time) and report the definition's coverage:
    /// states, Choice branches, Retry and Catch entries. Exit 0 when every case
    /// passes at the coverage asked for, 1 otherwise, 2 for a bad file.
    Test(TestArgs),
    /// Serve the Step Functions API (AWS JSON 1.0) on 127.0.0.1, for the AWS CLI,
    /// boto3 and the AWS SDKs (`--endpoint-url http://127.0.0.1:8083`). At start
    /// it creates the project's own state machine from the template and prints
    /// its ARN. Tasks run as for `run`: the function handlers in-process against
    /// moto (started here), or a Lambda Invoke API (--lambda-endpoint); with
    /// --mock-config, an execution started on `<state machine ARN>#<TestCase>`
    /// gets that test case's mocked answers. State is kept in SQLite (a restart
    /// resumes it); --ephemeral keeps it in memory only.
    Serve(ServeArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Which definition: the template's state machine, or another file.
#[derive(Args)]
struct DefinitionArgs {
    /// The SAM or CloudFormation template (default: infra/template.yaml of the project). `serve`
    /// registers every state machine it declares and makes its resources in the emulator.
    #[arg(long)]
    template: Option<PathBuf>,
    /// A definition file instead of the template's own (DefinitionSubstitutions still apply).
    #[arg(long)]
    definition: Option<PathBuf>,
    /// Which of the template's state machines (its logical id or its name), when it declares several.
    #[arg(long, value_name = "NAME")]
    state_machine: Option<String>,
    /// Values for the template's Parameters, over their defaults, as `sam deploy` and `sam local`
    /// take them: `Name=Value` or `ParameterKey=Name,ParameterValue=Value`, several after one flag.
    #[arg(long, value_name = "NAME=VALUE", num_args = 1..)]
    parameter_overrides: Vec<String>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    definition: DefinitionArgs,
    /// The execution input: a JSON file, or - for stdin.
    #[arg(long, default_value = "events/order-valid.json")]
    input: String,
    /// SAM's environment-variables file (as `sam local` takes it): values for the template's
    /// functions' variables, under a function's logical id or name, or under `Parameters` for all.
    #[arg(long, value_name = "FILE")]
    env_vars: Option<PathBuf>,
    /// Send tasks to this Lambda Invoke API (e.g. http://127.0.0.1:9000) instead of in-process handlers.
    #[arg(long, value_name = "URL")]
    lambda_endpoint: Option<String>,
    /// Send service tasks (dynamodb:putItem, aws-sdk:...) to this AWS endpoint (e.g. another emulator)
    /// instead of the local emulator started here.
    #[arg(long, value_name = "URL", env = "ORDERFLOW_AWS_ENDPOINT")]
    aws_endpoint: Option<String>,
    /// Wait states and retry intervals take no time (the history still shows the time that passed).
    #[arg(long)]
    virtual_time: bool,
    /// text: the history and the outcome; json: the execution, history and stored order as JSON.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// After the outcome, the Mermaid flowchart with the states the execution entered highlighted.
    #[arg(long)]
    graph: bool,
    /// When the state machine starts child executions, waits for task tokens or has activities:
    /// the port on 127.0.0.1 of the Step Functions API its workers call while it runs (0: any free
    /// one, printed on stderr).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    definition: DefinitionArgs,
    /// The port on 127.0.0.1 (0: any free one, printed at start).
    #[arg(long, default_value_t = 8083)]
    port: u16,
    /// SAM's environment-variables file (as `sam local` takes it): values for the template's
    /// functions' variables, under a function's logical id or name, or under `Parameters` for all.
    #[arg(long, value_name = "FILE")]
    env_vars: Option<PathBuf>,
    /// Send tasks to this Lambda Invoke API (e.g. http://127.0.0.1:9000) instead of in-process handlers.
    #[arg(long, value_name = "URL")]
    lambda_endpoint: Option<String>,
    /// Send service tasks (dynamodb:putItem, aws-sdk:...) to this AWS endpoint (e.g. another emulator)
    /// instead of the local emulator started here.
    #[arg(long, value_name = "URL", env = "ORDERFLOW_AWS_ENDPOINT")]
    aws_endpoint: Option<String>,
    /// A Step Functions Local MockConfigFile: `<state machine ARN>#<TestCase>` runs with its mocks.
    #[arg(long, value_name = "FILE", env = "SFN_MOCK_CONFIG")]
    mock_config: Option<PathBuf>,
    /// Wait states and retry intervals take no time (the history still shows the time that passed).
    #[arg(long)]
    virtual_time: bool,
    /// Keep state machines, executions and histories in DIR/orderflow.sqlite3: a restart keeps
    /// finished executions and goes on with running ones.
    #[arg(long, value_name = "DIR", default_value = ".orderflow", conflicts_with = "ephemeral")]
    state_dir: PathBuf,
    /// Keep everything in memory only: gone when the server stops.
    #[arg(long)]
    ephemeral: bool,
    /// The port on 127.0.0.1 of the template's REST API, for its state machines' `Api`
    /// events (0: any free one, printed at start).
    #[arg(long, default_value_t = 3000)]
    api_port: u16,
}

#[derive(Args)]
struct LintArgs {
    #[command(flatten)]
    definition: DefinitionArgs,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Args)]
struct TestArgs {
    #[command(flatten)]
    definition: DefinitionArgs,
    /// The test file (its MockConfigFile is named inside, relative to it).
    #[arg(default_value = "statemachine/order.tests.json")]
    file: PathBuf,
    /// Fail below this coverage, in percent.
    #[arg(long, value_name = "PERCENT", default_value_t = 0.0)]
    min_coverage: f64,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

#[derive(Args)]
struct GraphArgs {
    #[command(flatten)]
    definition: DefinitionArgs,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// ANSI colours for the status and the errors, when asked for.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn new(choice: ColorChoice) -> Paint {
        use std::io::IsTerminal;
        Paint(match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        })
    }

    fn green(self, text: &str) -> String {
        if self.0 { format!("\x1b[32m{text}\x1b[0m") } else { text.to_owned() }
    }

    fn red(self, text: &str) -> String {
        if self.0 { format!("\x1b[31m{text}\x1b[0m") } else { text.to_owned() }
    }
}

/// A path from the command line: as written when it exists from here, else
/// from the project's root.
fn given(path: &Path) -> Result<PathBuf, String> {
    let here = std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
    Ok(resolve(path, &workspace_root(&here)))
}

impl DefinitionArgs {
    fn template_path(&self) -> &Path {
        self.template.as_deref().unwrap_or(Path::new("infra/template.yaml"))
    }

    fn load(&self) -> Result<Loaded, String> {
        let definition = self.definition.as_deref().map(given).transpose()?;
        let path = given(self.template_path())?;
        match self.stack_template()? {
            Some(template) => {
                let place = stack_place("http://127.0.0.1");
                let stack = template.stack(&place).map_err(|e| format!("{}: {e}", path.display()))?;
                orderflow::loader::load_from_stack(&template, &stack, self.state_machine.as_deref())
            }
            None => load(&path, definition.as_deref()),
        }
    }

    /// The template, when its state machines load as a stack's (any template
    /// but this project's kind, and no --definition).
    fn stack_template(&self) -> Result<Option<orderflow_definition::Template>, String> {
        if self.definition.is_some() {
            return Ok(None);
        }
        let template = self.read_template(&given(self.template_path())?)?;
        Ok((!orderflow::loader::is_project_kind(&template, self.state_machine.as_deref())).then_some(template))
    }

    /// The template at `path`, with the values given for its Parameters.
    fn read_template(&self, path: &Path) -> Result<orderflow_definition::Template, String> {
        let overrides = orderflow_definition::parse_overrides(&self.parameter_overrides)?;
        let template = orderflow_definition::Template::load(path).map_err(|e| e.to_string())?;
        template.with_parameters(overrides).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Loads a definition the executor may run: one without lint findings.
    fn load_runnable(&self) -> Result<Loaded, String> {
        let loaded = self.load()?;
        match orderflow_asl::lint::lint_with(&loaded.machine, &runs_locally).first() {
            Some(finding) => Err(format!(
                "{} (orderflow lint lists every finding; the executor runs no definition with one)",
                placed(&loaded, finding)
            )),
            None => Ok(loaded),
        }
    }
}

fn init_tracing(verbose: u8) {
    use lambda_runtime::tracing::subscriber::EnvFilter;
    let level = match verbose {
        0 => return,
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    lambda_runtime::tracing::subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_env_filter(filter)
        .init();
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let paint = Paint::new(cli.color);
    let result = match cli.command {
        Command::Run(args) => run(args, paint).await,
        Command::Lint(args) => lint(args, paint),
        Command::Graph(args) => graph(args),
        Command::Test(args) => test(args, paint).await,
        Command::Serve(args) => serve(args).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "orderflow", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|message| {
        eprintln!("orderflow: {}", paint.red(&message));
        ExitCode::from(2)
    })
}

/// A finding with its place in the definition's text.
fn placed(loaded: &Loaded, finding: &orderflow_asl::DefinitionError) -> String {
    let place = orderflow::source::locate(&loaded.source, &finding.location)
        .map(|(line, column)| format!(":{line}:{column}"))
        .unwrap_or_default();
    format!("{}{place}: {finding}", loaded.definition_path.display())
}

/// Whether a service Task runs here: child executions in the Step Functions
/// API around the run, the rest through the integrations.
fn runs_locally(task: &orderflow_asl::model::ServiceTask) -> Result<(), String> {
    orderflow_server::runs_here(task, Integrations::check)
}

fn lint(args: LintArgs, paint: Paint) -> Result<ExitCode, String> {
    let loaded = args.definition.load()?;
    let findings = orderflow_asl::lint::lint_with(&loaded.machine, &runs_locally);
    match args.output {
        Output::Json => {
            let list: Vec<Value> = findings
                .iter()
                .map(|f| {
                    let (line, column) = orderflow::source::locate(&loaded.source, &f.location).unwrap_or((0, 0));
                    json!({"file": loaded.definition_path, "line": line, "column": column,
                           "location": f.location, "message": f.message})
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"states": loaded.machine.states.len(), "findings": list}))
                    .unwrap_or_default()
            );
        }
        Output::Text => {
            for f in &findings {
                println!("{}", paint.red(&placed(&loaded, f)));
            }
            println!(
                "{}: {} states, {} finding(s)",
                loaded.definition_path.display(),
                loaded.machine.states.len(),
                findings.len()
            );
        }
    }
    Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn test(args: TestArgs, paint: Paint) -> Result<ExitCode, String> {
    use orderflow::test_cases::{self, Suite};
    let loaded = args.definition.load_runnable()?;
    let suite = Suite::load(&given(&args.file)?)?;
    let report = test_cases::run(&loaded.machine, &suite).await;
    println!(
        "orderflow test: {}, {} case(s) against {}\n",
        suite.path.display(),
        suite.cases.len(),
        loaded.definition_path.display()
    );
    for case in &report.cases {
        if case.problems.is_empty() {
            println!("{}  {}", paint.green("ok  "), case.name);
        } else {
            println!("{}  {}", paint.red("FAIL"), case.name);
            for problem in &case.problems {
                println!("      {}", problem.replace('\n', "\n      "));
            }
        }
    }
    let kinds: Vec<String> =
        report.coverage_by_kind().iter().map(|(kind, covered, all)| format!("{covered}/{all} {kind}")).collect();
    let percent = report.coverage_percent();
    println!("\ncoverage: {}: {percent:.1}%", kinds.join(", "));
    let missing: Vec<&str> =
        report.coverage.iter().filter(|(_, _, c)| !c).map(|(_, label, _)| label.as_str()).collect();
    if !missing.is_empty() {
        println!("not covered: {}", missing.join(", "));
    }
    let failed = report.failed();
    println!("{} passed, {failed} failed", report.cases.len() - failed);
    if let Some(path) = &args.junit {
        std::fs::write(path, test_cases::junit(&suite, &report))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let enough = percent + 1e-9 >= args.min_coverage;
    if !enough {
        println!("{}", paint.red(&format!("coverage {percent:.1}% is below --min-coverage {}%", args.min_coverage)));
    }
    Ok(if failed == 0 && enough { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn graph(args: GraphArgs) -> Result<ExitCode, String> {
    let loaded = args.definition.load()?;
    let written = orderflow::source::Ordered::parse(&loaded.source);
    print!("{}", orderflow::graph::mermaid(&loaded.machine, written.as_ref(), &[]));
    Ok(ExitCode::SUCCESS)
}

fn read_input(input: &str) -> Result<(String, orderflow_value::Value), String> {
    let (name, text) = match input {
        "-" => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| format!("cannot read stdin: {e}"))?;
            ("stdin".to_owned(), text)
        }
        path => {
            let file = given(Path::new(path))?;
            (
                path.to_owned(),
                std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?,
            )
        }
    };
    let value = orderflow_value::parse(&text).map_err(|e| format!("{name} is not JSON: {e}"))?;
    Ok((name, value))
}

async fn execute(
    loaded: &Loaded,
    invoker: &dyn Invoker,
    services: Option<&Integrations>,
    virtual_time: bool,
    input: orderflow_value::Value,
) -> Execution {
    let real = RealClock;
    let fake = VirtualClock::default();
    let clock: &dyn Clock = if virtual_time { &fake } else { &real };
    let options = ExecutionOptions {
        name: format!("local-{}", std::process::id()).into(),
        state_machine_name: loaded.state_machine_name.as_str().into(),
        seed: u64::from(std::process::id()),
        ..Default::default()
    };
    let executor = Executor::new(&loaded.machine, invoker, clock, options);
    match services {
        Some(services) => executor.with_services(services).run(input).await,
        None => executor.run(input).await,
    }
}

/// Where service Tasks send their calls: `--aws-endpoint` when given, else
/// the local AWS of this run (the emulator started here); None without either.
fn services_at(explicit: Option<&str>, aws: Option<&LocalAws>) -> Result<Option<Integrations>, String> {
    let url = match (explicit, aws) {
        (Some(url), _) => url.to_owned(),
        (None, Some(aws)) => aws.endpoint(),
        (None, None) => return Ok(None),
    };
    Integrations::new(&url, orderflow_local::REGION).map(Some)
}

/// Where Task states go: the functions, the local AWS when one was started
/// or connected to, the service Tasks' endpoint, and the words that say so.
struct TaskHost {
    invoker: std::sync::Arc<dyn Invoker>,
    aws: Option<LocalAws>,
    services: Option<Integrations>,
    mode: String,
}

/// The Lambda Invoke API at `lambda_endpoint` (and the local AWS too when
/// `aws_too`), else the handlers in-process against the local AWS; service
/// Tasks to `aws_endpoint`, else to that local AWS. `who` names the command
/// in what the local AWS prints.
async fn task_host(
    lambda_endpoint: Option<&str>,
    aws_endpoint: Option<&str>,
    aws_too: bool,
    who: &str,
) -> Result<TaskHost, String> {
    use std::sync::Arc;
    let (invoker, aws, mode): (Arc<dyn Invoker>, _, _) = match lambda_endpoint {
        Some(url) => {
            let aws = match aws_too {
                true => Some(LocalAws::connect(who).await?),
                false => None,
            };
            (Arc::new(LambdaEndpoint::new(url)?), aws, format!("tasks through the Lambda Invoke API at {url}"))
        }
        None => {
            let aws = LocalAws::connect(who).await?;
            let mode = format!("tasks in-process against {}", aws.describe());
            (Arc::new(aws.tasks()), Some(aws), mode)
        }
    };
    let services = services_at(aws_endpoint, aws.as_ref())?;
    let mode = format!("{mode}{}", services_mode(services.as_ref()));
    Ok(TaskHost { invoker, aws, services, mode })
}

/// The stack of `template`, its queues under the local AWS (`aws`), and
/// where tasks go: `invoker`, but for the tasks that name one of the stack's
/// own functions that runs here (a Python handler, a built `bootstrap`),
/// when there is a local AWS for their calls and no --lambda-endpoint; `mode`
/// says so. Says on stderr what runs here and what does not.
async fn local_stack(
    template: Option<&orderflow_definition::Template>,
    aws: Option<&str>,
    lambda_endpoint: Option<&str>,
    env_vars: Option<&Path>,
    (invoker, mode): (std::sync::Arc<dyn Invoker>, String),
    who: &str,
) -> Result<(Option<orderflow_definition::Stack>, std::sync::Arc<dyn Invoker>, String), String> {
    let stack = match template {
        Some(template) => Some(
            template
                .stack(&stack_place(aws.unwrap_or("http://127.0.0.1")))
                .map_err(|e| format!("{}: {e}", template.path().display()))?,
        ),
        None => None,
    };
    let (Some(here), Some(aws), None) = (&stack, aws, lambda_endpoint) else {
        if env_vars.is_some() {
            eprintln!("{who}: --env-vars is not used: it sets the variables of a template's own functions run here");
        }
        return Ok((stack, invoker, mode));
    };
    let mut functions = here.functions.clone();
    if let Some(path) = env_vars {
        let path = given(path)?;
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
        let notes = orderflow_definition::apply_env_vars(&mut functions, &file)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        for note in notes {
            eprintln!("{who}: {}: {note}", path.display());
        }
    }
    let (local, said) = orderflow::local_functions::LocalFunctions::start(&functions, aws).await;
    for line in said {
        eprintln!("{who}: {line}");
    }
    Ok(match local {
        Some(local) => {
            let mode =
                format!("the template's functions through the Lambda Invoke API at {}; other {mode}", local.endpoint());
            (stack, local.before(invoker), mode)
        }
        None => (stack, invoker, mode),
    })
}

/// Where a local stack is: this machine's region and account, its queues under `queue_base`.
fn stack_place(queue_base: &str) -> orderflow_definition::Place {
    orderflow_definition::Place {
        region: orderflow_local::REGION.into(),
        account: orderflow_local::ACCOUNT.into(),
        queue_base: queue_base.into(),
    }
}

/// The words that say where service Tasks go, for the line that says how tasks run.
fn services_mode(services: Option<&Integrations>) -> String {
    services.map(|s| format!("; service tasks to {}", s.endpoint())).unwrap_or_default()
}

/// A DynamoDB item as plain JSON, for printing.
fn item_json(item: &std::collections::HashMap<String, AttributeValue>) -> Value {
    let map: BTreeMap<&String, Value> = item
        .iter()
        .map(|(k, v)| {
            let value = match v {
                AttributeValue::S(s) if k == "order" => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
                AttributeValue::S(s) | AttributeValue::N(s) => Value::String(s.clone()),
                AttributeValue::Bool(b) => Value::Bool(*b),
                other => Value::String(format!("{other:?}")),
            };
            (k, value)
        })
        .collect();
    json!(map)
}

/// `run` inside an in-process Step Functions API: for a state machine of
/// another template's stack, or one that starts children, waits for task
/// tokens or has activities. The execution as it ended (None: stopped), and
/// the words that say how tasks ran.
async fn run_in_api(
    o: &RunArgs,
    loaded: &Loaded,
    stack: Option<orderflow_definition::Template>,
    input: &orderflow_value::Value,
) -> Result<(Option<Execution>, String), String> {
    use std::sync::Arc;
    let aws_too = o.aws_endpoint.is_none() && (loaded.machine.calls_services() || stack.is_some());
    let host = task_host(o.lambda_endpoint.as_deref(), o.aws_endpoint.as_deref(), aws_too, "orderflow").await?;
    let (invoker, mode) = (host.invoker, host.mode);
    let services = host.services.map(Arc::new);
    let aws = services.as_ref().map(|s| s.endpoint());
    let (lambda, env_vars) = (o.lambda_endpoint.as_deref(), o.env_vars.as_deref());
    let (stack, invoker, mode) =
        local_stack(stack.as_ref(), aws, lambda, env_vars, (invoker, mode), "orderflow run").await?;
    let clock: Arc<dyn Clock> = if o.virtual_time { Arc::new(VirtualClock::default()) } else { Arc::new(RealClock) };
    let api = orderflow::api_run::ApiRun::start(invoker, clock, services.clone(), o.port).await?;
    let arn = match stack {
        Some(stack) => {
            for line in orderflow::local_stack::make_resources(&stack, services.as_deref(), &api.service).await {
                eprintln!("orderflow run: {line}");
            }
            let machines = orderflow::local_stack::register_machines(&stack, &api.service).await?;
            let found = machines.into_iter().find(|(name, _)| *name == loaded.state_machine_name);
            found.map(|(_, arn)| arn).ok_or_else(|| format!("{} was not registered", loaded.state_machine_name))?
        }
        None => {
            let definition =
                orderflow_definition::substitute(&loaded.source, &loaded.substitutions).map_err(|e| e.to_string())?;
            let name = &loaded.state_machine_name;
            orderflow::local_stack::put_machine(&api.service, name, &definition, None, "STANDARD").await?
        }
    };
    if loaded.machine.needs_api() {
        eprintln!(
            "orderflow run: the Step Functions API on {} while the execution runs (activity workers, task tokens)",
            api.address
        );
    }
    let (arn, execution) = api.run(&arn, &input.to_string()).await?;
    Ok((execution, format!("{mode}; execution {arn} in the Step Functions API on {}", api.address)))
}

async fn run(o: RunArgs, paint: Paint) -> Result<ExitCode, String> {
    let loaded = o.definition.load_runnable()?;
    let (input_name, input) = read_input(&o.input)?;
    let order_id = input.get("order_id").and_then(orderflow_value::Value::as_str).map(str::to_owned);
    let stack = o.definition.stack_template()?;

    let (execution, stored, mode) = if stack.is_some() || loaded.machine.needs_api() {
        let (execution, mode) = run_in_api(&o, &loaded, stack, &input).await?;
        let Some(execution) = execution else {
            println!("{}\nthe execution was stopped through the API ({mode})", paint.red("ABORTED"));
            return Ok(ExitCode::FAILURE);
        };
        (execution, None, mode)
    } else {
        let aws_too = o.aws_endpoint.is_none() && loaded.machine.calls_services();
        let host = task_host(o.lambda_endpoint.as_deref(), o.aws_endpoint.as_deref(), aws_too, "orderflow").await?;
        let execution = execute(&loaded, host.invoker.as_ref(), host.services.as_ref(), o.virtual_time, input).await;
        // The stored order, when this project's handlers ran in-process.
        let stored = match (&host.aws, &order_id, &o.lambda_endpoint) {
            (Some(aws), Some(id), None) => aws
                .clients
                .dynamodb()
                .get_item()
                .table_name(&aws.table)
                .key("order_id", AttributeValue::S(id.clone()))
                .consistent_read(true)
                .send()
                .await
                .ok()
                .and_then(|r| r.item)
                .map(|item| item_json(&item)),
            _ => None,
        };
        (execution, stored, host.mode)
    };

    if o.output == Output::Json {
        let mut out = serde_json::to_value(&execution).map_err(|e| e.to_string())?;
        out["storedOrder"] = stored.unwrap_or(Value::Null);
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
    } else {
        println!(
            "orderflow run: {} ({}), input {input_name}, {mode}\n",
            loaded.definition_path.display(),
            loaded.state_machine_name
        );
        println!("Execution history");
        print!("{}", trace(&execution.history.events()));
        println!();
        match execution.status {
            ExecutionStatus::Succeeded => {
                println!("{}", paint.green("SUCCEEDED"));
                println!("{}", serde_json::to_string_pretty(&execution.output).unwrap_or_default());
            }
            status => {
                println!(
                    "{}",
                    paint.red(serde_json::to_value(status).unwrap_or_default().as_str().unwrap_or("FAILED"))
                );
                println!("error: {}", paint.red(execution.error.as_deref().unwrap_or_default()));
                println!("cause: {}", execution.cause.as_deref().unwrap_or_default());
            }
        }
        if let Some(stored) = &stored {
            println!("\nStored order (DynamoDB item)");
            println!("{}", serde_json::to_string_pretty(stored).unwrap_or_default());
        }
    }
    if o.graph {
        let entered = execution.history.states_entered();
        let written = orderflow::source::Ordered::parse(&loaded.source);
        println!("\nThe path taken\n");
        print!("{}", orderflow::graph::mermaid(&loaded.machine, written.as_ref(), &entered));
    }
    Ok(if execution.status == ExecutionStatus::Succeeded { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn serve(o: ServeArgs) -> Result<ExitCode, String> {
    use orderflow::serve::{FileMocks, deployed_name, read_mock_config};
    use orderflow_server::{Config, Place, Service};
    use std::sync::Arc;

    // What to serve: the template's stack (every state machine, its resources),
    // the project's state machine with another definition, or nothing yet.
    let template = given(o.definition.template_path())?;
    let project = match (&o.definition.definition, template.exists(), &o.definition.template) {
        (Some(_), _, _) => Project::Definition(o.definition.load_runnable()?),
        (None, true, _) => Project::Stack(o.definition.read_template(&template)?),
        (None, false, None) => Project::Empty,
        (None, false, Some(_)) => return Err(format!("cannot read {}: no such file", template.display())),
    };
    let mocks = o.mock_config.as_deref().map(|p| given(p).and_then(|p| read_mock_config(&p))).transpose()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", o.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", o.port))?;
    // The local AWS (`_aws`) lives as long as the server.
    let TaskHost { invoker, aws: _aws, services, mode } =
        task_host(o.lambda_endpoint.as_deref(), o.aws_endpoint.as_deref(), false, "orderflow serve").await?;
    let read = match &project {
        Project::Stack(read) => Some(read),
        _ => None,
    };
    let aws = services.as_ref().map(|s| s.endpoint());
    let (lambda, env_vars) = (o.lambda_endpoint.as_deref(), o.env_vars.as_deref());
    let (stack, invoker, mode) = local_stack(read, aws, lambda, env_vars, (invoker, mode), "orderflow serve").await?;
    let clock: Arc<dyn Clock> = if o.virtual_time { Arc::new(VirtualClock::default()) } else { Arc::new(RealClock) };
    let place = if o.ephemeral { Place::Memory } else { Place::Dir(o.state_dir.clone()) };
    let mut service = Service::open(Config::default(), invoker, clock, &place).map_err(|e| e.to_string())?;
    let setup = services.map(Arc::new);
    if let Some(services) = &setup {
        service = service.with_services(services.clone(), Integrations::check);
    }
    if let Some(mocks) = mocks {
        service = service.with_mocks(Arc::new(FileMocks(Arc::new(mocks))));
    }
    let service = Arc::new(service);

    // The stack's event rules read their queues, and its API answers, as long as the server runs.
    let mut _rules = orderflow::event_rules::RuleReaders::default();
    let (mut api, mut api_lines) = (None, Vec::new());
    let machines: Vec<(String, String)> = match (&project, &stack) {
        (_, Some(stack)) => {
            for line in orderflow::local_stack::make_resources(stack, setup.as_deref(), &service).await {
                eprintln!("orderflow serve: {line}");
            }
            let machines = orderflow::local_stack::register_machines(stack, &service).await?;
            let (readers, said) = orderflow::event_rules::start(stack, setup.as_ref(), &service).await;
            for line in said {
                eprintln!("orderflow serve: {line}");
            }
            _rules = readers;
            (api, api_lines) = orderflow::api_events::start(&stack.routes, &service, o.api_port).await;
            machines
        }
        (Project::Definition(loaded), None) => {
            // Its name as the template gives it, with the parameters' values given.
            let name = match template.exists() {
                true => deployed_name(&o.definition.read_template(&template)?, &loaded.state_machine_name),
                false => loaded.state_machine_name.clone(),
            };
            let definition =
                orderflow_definition::substitute(&loaded.source, &loaded.substitutions).map_err(|e| e.to_string())?;
            let arn = orderflow::local_stack::put_machine(&service, &name, &definition, None, "STANDARD").await?;
            vec![(name, arn)]
        }
        _ => Vec::new(),
    };
    let resumed = service.resume().map_err(|e| e.to_string())?;
    if resumed > 0 {
        eprintln!(
            "orderflow serve: {resumed} execution(s) were running when the server last stopped: each goes on from the last state it entered"
        );
    }
    let flusher = service.keep_flushed(std::time::Duration::from_millis(200));
    match &place {
        Place::Dir(dir) => eprintln!("orderflow serve: state kept in {}", dir.join("orderflow.sqlite3").display()),
        Place::Memory => eprintln!("orderflow serve: state kept in memory only (--ephemeral)"),
    }
    let address =
        listener.local_addr().map_or_else(|_| format!("http://127.0.0.1:{}", o.port), |a| format!("http://{a}"));
    println!("orderflow serve: the Step Functions API on {address} ({mode})");
    println!("orderflow serve: the console on {address}/ (open it in a browser)");
    for (_, arn) in &machines {
        println!("state machine: {arn}");
    }
    for line in &api_lines {
        eprintln!("orderflow serve: {line}");
    }
    for route in api.iter().flat_map(|api: &orderflow::api_events::ApiServer| &api.routes) {
        println!("api: {route}");
    }
    if machines.is_empty() {
        println!("no template here: create state machines with CreateStateMachine");
    }
    if let Some((_, arn)) = machines.first() {
        // This project's sample order where there is one; else an empty input.
        let input = match Path::new("events/order-valid.json").is_file() {
            true => "file://events/order-valid.json",
            false => "'{}'",
        };
        println!(
            "try: aws stepfunctions --endpoint-url {address} start-execution --state-machine-arn {arn} --input {input}"
        );
    }
    tokio::select! {
        () = orderflow_server::serve_with_pages(listener, service.clone(), Some(Arc::new(orderflow_console::Console))) => {}
        () = stop_signal() => {}
    }
    flusher.abort();
    // What running executions did up to now; they go on at the next start.
    service.flush().map_err(|e| e.to_string())?;
    eprintln!("orderflow serve: stopped");
    Ok(ExitCode::SUCCESS)
}

/// What `serve` serves.
enum Project {
    /// The template's stack.
    Stack(orderflow_definition::Template),
    /// The project's state machine, with the definition `--definition` names.
    Definition(Loaded),
    /// No template: state machines come with CreateStateMachine.
    Empty,
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
