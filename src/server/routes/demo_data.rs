//! Small, realistic and deterministic business data per customer, for the protected
//! endpoints a dashboard calls in parallel.

use crate::api::{Order, OrderStatus, OrdersPage, OrdersQuery, Stats};

const ITEMS: [(&str, i64); 8] = [
    ("Ergonomic chair", 34_900),
    ("Standing desk", 59_900),
    ("Monitor arm", 12_900),
    ("USB-C dock", 21_900),
    ("Noise-cancelling headset", 27_900),
    ("Mechanical keyboard", 15_900),
    ("Webcam 4K", 18_900),
    ("Desk lamp", 6_900),
];

/// Orders 2025-06-01 onwards, a few days apart.
const FIRST_ORDER_AT: i64 = 1_748_736_000;

/// A tiny deterministic generator (SplitMix64), seeded per customer.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

fn seed(customer_code: &str) -> u64 {
    customer_code
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)
        })
}

/// All orders of a customer, newest first.
pub(crate) fn all_orders(customer_code: &str) -> Vec<Order> {
    let mut random = SplitMix(seed(customer_code));
    let count = 40 + random.below(25) as u32;
    let mut placed_at = FIRST_ORDER_AT;
    let mut orders: Vec<Order> = (1..=count)
        .map(|id| {
            placed_at += 3_600 * (20 + random.below(100) as i64);
            let (item, unit_cents) = ITEMS[random.below(ITEMS.len() as u64) as usize];
            let quantity = 1 + random.below(4) as u32;
            let status = match (id * 100 / count, random.below(10)) {
                (_, 0) => OrderStatus::Cancelled,
                (0..=69, _) => OrderStatus::Delivered,
                (70..=89, _) => OrderStatus::Shipped,
                _ => OrderStatus::Open,
            };
            Order {
                id,
                number: format!("{}-{:05}", customer_code, 10_000 + id * 7),
                placed_at,
                item: item.to_owned(),
                quantity,
                total_cents: unit_cents * i64::from(quantity),
                currency: "EUR".to_owned(),
                status,
            }
        })
        .collect();
    orders.reverse();
    orders
}

pub(crate) fn orders_page(customer_code: &str, query: OrdersQuery) -> OrdersPage {
    let orders = all_orders(customer_code);
    let total = orders.len() as u32;
    let start = ((query.page - 1) as usize).saturating_mul(query.page_size as usize);
    let items = orders
        .into_iter()
        .skip(start)
        .take(query.page_size as usize)
        .collect();
    OrdersPage {
        items,
        page: query.page,
        page_size: query.page_size,
        total,
    }
}

pub(crate) fn stats(customer_code: &str) -> Stats {
    let orders = all_orders(customer_code);
    let counted: Vec<&Order> = orders
        .iter()
        .filter(|o| o.status != OrderStatus::Cancelled)
        .collect();
    let revenue_cents: i64 = counted.iter().map(|o| o.total_cents).sum();
    Stats {
        orders_total: orders.len() as u32,
        open_orders: orders
            .iter()
            .filter(|o| o.status == OrderStatus::Open)
            .count() as u32,
        revenue_cents,
        average_order_cents: revenue_cents / (counted.len().max(1) as i64),
        currency: "EUR".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_deterministic_per_customer_and_differs_between_customers() {
        assert_eq!(all_orders("ACME"), all_orders("ACME"));
        assert_ne!(all_orders("ACME"), all_orders("GLOBEX"));
    }

    #[test]
    fn pages_cover_every_order_exactly_once() {
        let all = all_orders("ACME");
        let mut seen = Vec::new();
        for page in 1..=10 {
            seen.extend(orders_page("ACME", OrdersQuery { page, page_size: 7 }).items);
        }
        assert_eq!(seen, all);
        assert!(orders_page(
            "ACME",
            OrdersQuery {
                page: 99,
                page_size: 10
            }
        )
        .items
        .is_empty());
    }

    #[test]
    fn stats_agree_with_the_orders() {
        let all = all_orders("ACME");
        let stats = stats("ACME");
        assert_eq!(stats.orders_total as usize, all.len());
        assert!(stats.open_orders > 0 && stats.revenue_cents > 0);
    }
}
