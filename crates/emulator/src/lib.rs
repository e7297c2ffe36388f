//! The local AWS emulator: moto in server mode, started on 127.0.0.1 on a free
//! port and killed when dropped (or when the process that started it dies),
//! plus the resources orderflow needs in it.

mod moto;
mod resources;
mod throttling_stub;

pub use moto::{Emulator, EmulatorError, endpoint_loader, free_port};
pub use resources::{LocalResources, Notification, drain_notifications};
pub use throttling_stub::ThrottlingStub;
