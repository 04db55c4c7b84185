//! Building blocks of the data pages: a titled panel, an error line, the orders table.

use leptos::prelude::*;

use crate::api::{Order, OrderStatus};
use crate::format::{date, money};
use crate::i18n::Key;
use crate::refresh::ClientError;
use crate::state::use_language;

#[component]
pub(crate) fn Panel(
    title: Key,
    name: &'static str,
    #[prop(optional)] wide: bool,
    children: Children,
) -> impl IntoView {
    let lang = use_language();
    view! {
        <section class="card panel" class:wide=wide id=format!("panel-{name}") aria-label=lang.tr(title)>
            <h2>{lang.tr(title)}</h2>
            {children()}
        </section>
    }
}

#[component]
pub(crate) fn PanelError(error: ClientError) -> impl IntoView {
    let lang = use_language();
    let message = move || {
        // Follows a switch of language, which `describe` alone does not.
        lang.locale();
        lang.describe(&error)
    };
    view! { <p class="panel-error">{lang.tr(Key::CouldNotLoad)} " " {message}</p> }
}

#[component]
pub(crate) fn OrdersTable(orders: Vec<Order>) -> impl IntoView {
    let lang = use_language();
    view! {
        <table class="orders" data-loaded="true">
            <thead>
                <tr>
                    <th>{lang.tr(Key::ColOrder)}</th>
                    <th>{lang.tr(Key::ColDate)}</th>
                    <th>{lang.tr(Key::ColItem)}</th>
                    <th class="num">{lang.tr(Key::ColQty)}</th>
                    <th class="num">{lang.tr(Key::ColTotal)}</th>
                    <th>{lang.tr(Key::ColStatus)}</th>
                </tr>
            </thead>
            <tbody>
                {orders
                    .into_iter()
                    .map(|order| {
                        let placed_at = order.placed_at;
                        view! {
                            <tr>
                                <td class="mono">{order.number}</td>
                                <td>{move || date(lang.locale(), placed_at)}</td>
                                <td>{order.item}</td>
                                <td class="num">{order.quantity}</td>
                                <td class="num">{money(order.total_cents, &order.currency)}</td>
                                <td>
                                    <span class=status_class(order.status)>
                                        {lang.tr(status_key(order.status))}
                                    </span>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// The badge's classes (style/main.css), written out: lowercasing a label at run time
/// linked Unicode's case tables into the bundle.
fn status_class(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Open => "status status-open",
        OrderStatus::Shipped => "status status-shipped",
        OrderStatus::Delivered => "status status-delivered",
        OrderStatus::Cancelled => "status status-cancelled",
    }
}

fn status_key(status: OrderStatus) -> Key {
    match status {
        OrderStatus::Open => Key::StatusOpen,
        OrderStatus::Shipped => Key::StatusShipped,
        OrderStatus::Delivered => Key::StatusDelivered,
        OrderStatus::Cancelled => Key::StatusCancelled,
    }
}
