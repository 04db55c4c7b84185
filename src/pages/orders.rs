//! `/orders?page=N`: the paged order list, a WASM chunk of its own (`Deferred`).

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::OrdersQuery;
use crate::components::deferred::{deferred_body, Deferred};
use crate::components::page_head::PageHead;
use crate::components::panels::{OrdersTable, PanelError};
use crate::i18n::Key;
use crate::state::{use_calls, use_language};

const PAGE_SIZE: u32 = 10;

#[component]
pub(crate) fn OrdersPage() -> impl IntoView {
    view! {
        <PageHead title=Key::OrdersTitle/>
        <Deferred load=order_list/>
    }
}

deferred_body!(order_list => OrderList);

#[component]
fn OrderList() -> impl IntoView {
    let calls = use_calls();
    let lang = use_language();
    let query = use_query_map();
    let page = Memo::new(move |_| {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u32>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    });
    let orders = LocalResource::new(move || {
        let page = page.get();
        async move {
            calls.reported(
                calls
                    .orders(OrdersQuery {
                        page,
                        page_size: PAGE_SIZE,
                    })
                    .await,
            )
        }
    });

    view! {
        <section class="card" id="orders-list">
            <Transition fallback=|| view! { <div class="skeleton tall"></div> }>
                {move || Suspend::new(async move {
                    match orders.await {
                        Ok(list) => {
                            let pages = list.page_count();
                            let current = list.page;
                            view! {
                                <OrdersTable orders=list.items/>
                                <nav class="pager" aria-label=lang.tr(Key::PagesLabel)>
                                    <span class="muted">
                                        {move || lang.format(Key::OrdersPageOf, &[
                                            ("current", &current.to_string()),
                                            ("pages", &pages.to_string()),
                                            ("total", &list.total.to_string()),
                                        ])}
                                    </span>
                                    <span class="pager-links">
                                        {(current > 1).then(|| view! {
                                            <A href=format!("/orders?page={}", current - 1) attr:class="button ghost small">{lang.tr(Key::Previous)}</A>
                                        })}
                                        {(current < pages).then(|| view! {
                                            <A href=format!("/orders?page={}", current + 1) attr:class="button ghost small">{lang.tr(Key::Next)}</A>
                                        })}
                                    </span>
                                </nav>
                            }.into_any()
                        }
                        Err(error) => view! { <PanelError error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
