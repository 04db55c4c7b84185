//! Building blocks of the data pages: a titled panel, an error line, the orders table.

use leptos::prelude::*;

use crate::api::Order;
use crate::format::{date, money};
use crate::refresh::ClientError;

#[component]
pub(crate) fn Panel(
    title: &'static str,
    name: &'static str,
    #[prop(optional)] wide: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="card panel" class:wide=wide id=format!("panel-{name}") aria-label=title>
            <h2>{title}</h2>
            {children()}
        </section>
    }
}

#[component]
pub(crate) fn PanelError(error: ClientError) -> impl IntoView {
    view! { <p class="panel-error">"Could not load: " {error.to_string()}</p> }
}

#[component]
pub(crate) fn OrdersTable(orders: Vec<Order>) -> impl IntoView {
    view! {
        <table class="orders" data-loaded="true">
            <thead>
                <tr>
                    <th>"Order"</th>
                    <th>"Date"</th>
                    <th>"Item"</th>
                    <th class="num">"Qty"</th>
                    <th class="num">"Total"</th>
                    <th>"Status"</th>
                </tr>
            </thead>
            <tbody>
                {orders
                    .into_iter()
                    .map(|order| {
                        view! {
                            <tr>
                                <td class="mono">{order.number}</td>
                                <td>{date(order.placed_at)}</td>
                                <td>{order.item}</td>
                                <td class="num">{order.quantity}</td>
                                <td class="num">{money(order.total_cents, &order.currency)}</td>
                                <td>
                                    <span class=format!("status status-{}", order.status.label().to_lowercase())>
                                        {order.status.label()}
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
