//! One route per file.

mod dashboard;
mod lab;
mod login;
mod not_found;
mod orders;
mod sessions;

pub(crate) use dashboard::DashboardPage;
pub(crate) use lab::LabPage;
pub(crate) use login::LoginPage;
pub(crate) use not_found::NotFoundPage;
pub(crate) use orders::OrdersPage;
pub(crate) use sessions::SessionsPage;
