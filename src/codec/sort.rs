//! Stable sorting through one instantiation of the standard library's sort. Sorting each element
//! type directly instantiates the whole sort again (about 6 KB of wasm apiece, eight of them in
//! the edge module); here every caller sorts indices with the same comparator type.

use std::cmp::Ordering;

/// Sorts `v` by `cmp`, stably: exactly the order `v.sort_by(cmp)` gives.
pub(crate) fn sort_by<T>(v: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
    let order = {
        let items: &[T] = v;
        indices(items.len(), &|a, b| match (items.get(a), items.get(b)) {
            (Some(x), Some(y)) => cmp(x, y),
            _ => Ordering::Equal,
        })
    };
    let mut slots: Vec<Option<T>> = v.drain(..).map(Some).collect();
    v.extend(
        order
            .into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take)),
    );
}

/// `0..n` stably sorted by `cmp`.
#[inline(never)]
fn indices(n: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| cmp(a, b));
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_order_as_the_standard_stable_sort() {
        // Pairs compared by their first half only: equal keys keep their input order.
        let mut seed = 7u32;
        for len in [0usize, 1, 2, 3, 8, 21, 64, 300] {
            let input: Vec<(u32, u32)> = (0..len as u32)
                .map(|i| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    ((seed >> 16) % 5, i)
                })
                .collect();
            let mut ours = input.clone();
            sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
            let mut std = input;
            std.sort_by_key(|a| a.0);
            assert_eq!(ours, std);
        }
    }
}
