//! The AWS the order functions talk to when `orderflow run` or `orderflow
//! serve` answer their Task states in-process: the environment's endpoint
//! when it names one (`AWS_ENDPOINT_URL`, `ORDERS_TABLE` and
//! `NOTIFICATION_TOPIC_ARN` all set), else moto started here on 127.0.0.1
//! with the table and topic made in it. Written once for both commands.

use orderflow_aws::{AwsClients, DynamoDbOrderStore, SnsNotifier};
use orderflow_domain::ports::SystemClock;
use orderflow_emulator::{Emulator, LocalResources};

use crate::InProcess;

/// The order functions' tasks, in this process.
pub type OrderTasks = InProcess<DynamoDbOrderStore, SnsNotifier, SystemClock>;

/// The functions' AWS: clients, the orders table and the notification
/// topic, and the emulator when one was started (it stops when this drops).
pub struct LocalAws {
    pub clients: AwsClients,
    pub table: String,
    pub topic: String,
    emulator: Option<Emulator>,
}

impl LocalAws {
    /// The environment's AWS when it names all three, else moto started now
    /// (`program` says who, in the line that tells so on stderr).
    pub async fn connect(program: &str) -> Result<LocalAws, String> {
        let from_env = ["AWS_ENDPOINT_URL", "ORDERS_TABLE", "NOTIFICATION_TOPIC_ARN"]
            .iter()
            .all(|v| std::env::var_os(v).is_some());
        if from_env {
            let table = orderflow_lambda::orders_table().map_err(|e| e.error_message())?;
            let topic = orderflow_lambda::notification_topic_arn().map_err(|e| e.error_message())?;
            return Ok(LocalAws { clients: AwsClients::from_env().await, table, topic, emulator: None });
        }
        eprintln!("{program}: starting moto, the local AWS emulator, on 127.0.0.1 ...");
        let emulator = Emulator::start().map_err(|e| e.to_string())?;
        let config = emulator.config_loader().load().await;
        let resources = LocalResources::create(&config, "orderflow").await.map_err(|e| e.to_string())?;
        let clients = AwsClients::load(emulator.config_loader()).await;
        Ok(LocalAws { clients, table: resources.table, topic: resources.topic_arn, emulator: Some(emulator) })
    }

    /// The order functions' handlers against this AWS.
    pub fn tasks(&self) -> OrderTasks {
        InProcess::new(
            DynamoDbOrderStore::new(self.clients.dynamodb(), &self.table),
            SnsNotifier::new(self.clients.sns(), &self.topic),
            SystemClock,
        )
    }

    /// Its endpoint URL, where service Tasks send their calls.
    pub fn endpoint(&self) -> String {
        match &self.emulator {
            Some(emulator) => emulator.endpoint(),
            None => std::env::var("AWS_ENDPOINT_URL").unwrap_or_default(),
        }
    }

    /// Where it is, for the line that says how tasks run.
    pub fn describe(&self) -> String {
        match &self.emulator {
            Some(emulator) => format!("moto at {}", emulator.endpoint()),
            None => "the AWS endpoint of the environment".to_owned(),
        }
    }
}
