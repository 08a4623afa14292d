//! Pure per-item work on every core: the item list is cut into one contiguous chunk per
//! thread ([`std::thread::scope`]) and the results are joined in item order, so the output is
//! the same as a sequential map, whatever the number of threads.

/// Below this many items per thread, [`map`] and [`map_chunks`] keep the work on the calling
/// thread: small per-item work is not worth a thread.
const MIN_PER_THREAD: usize = 512;

/// How many threads pure work may use: the cores this process may run on.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `items.iter().map(f).collect()`, computed on up to [`threads`] threads.
pub fn map<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    map_chunks(items, |chunk| chunk.iter().map(&f).collect())
}

/// `f` over contiguous chunks of `items` (one per thread), the chunks' results joined in order.
/// `f` must give the same result for a chunk as the items would give one by one.
pub fn map_chunks<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&[T]) -> Vec<R> + Sync,
{
    map_chunks_of(items, MIN_PER_THREAD, f)
}

/// [`map`] for large items (files, groups of findings): threads are used from
/// `min_per_thread` items each.
pub fn map_large<T, R, F>(items: &[T], min_per_thread: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    map_chunks_of(items, min_per_thread, |chunk| {
        chunk.iter().map(&f).collect()
    })
}

fn map_chunks_of<T, R, F>(items: &[T], min_per_thread: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&[T]) -> Vec<R> + Sync,
{
    let threads = threads().min(items.len() / min_per_thread.max(1)).max(1);
    if threads == 1 {
        return f(items);
    }
    let size = items.len().div_ceil(threads);
    let parts: Vec<Vec<R>> = std::thread::scope(|scope| {
        let f = &f;
        let mut chunks = items.chunks(size);
        // The first chunk runs here; the others on their own threads.
        let first = chunks.next().unwrap_or_default();
        let handles: Vec<_> = chunks.map(|chunk| scope.spawn(move || f(chunk))).collect();
        let mut parts = vec![f(first)];
        parts.extend(handles.into_iter().map(joined));
        parts
    });
    let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in parts {
        out.extend(part);
    }
    out
}

/// Items rendered per thread in each round of [`write_each`]: bounds the bytes held at once.
const ITEMS_PER_ROUND: usize = 1024;

/// Writes the bytes `render` gives each item (with its index in `items`) to `out`, in item
/// order. The items are rendered on every core, a bounded round at a time, so the output is
/// the same as rendering them one by one and the memory held is a few rounds' bytes.
pub fn write_each<T, F>(items: &[T], out: &mut dyn std::io::Write, render: F) -> std::io::Result<()>
where
    T: Sync,
    F: Fn(usize, &T, &mut Vec<u8>) -> std::io::Result<()> + Sync,
{
    write_each_in_rounds(items, ITEMS_PER_ROUND, MIN_PER_THREAD, out, render)
}

/// [`write_each`] for large items (a chunk of table rows): `per_round` items per thread at a
/// time, threads used from `min_items` items.
pub fn write_each_in_rounds<T, F>(
    items: &[T],
    per_round: usize,
    min_items: usize,
    out: &mut dyn std::io::Write,
    render: F,
) -> std::io::Result<()>
where
    T: Sync,
    F: Fn(usize, &T, &mut Vec<u8>) -> std::io::Result<()> + Sync,
{
    let per_round = per_round.max(1);
    let threads = threads();
    let render_chunk = |start: usize, chunk: &[T]| -> std::io::Result<Vec<u8>> {
        let mut buffer = Vec::new();
        for (i, item) in chunk.iter().enumerate() {
            render(start + i, item, &mut buffer)?;
        }
        Ok(buffer)
    };
    if threads == 1 || items.len() < min_items.max(2) {
        for (start, chunk) in (0..).step_by(per_round).zip(items.chunks(per_round)) {
            out.write_all(&render_chunk(start, chunk)?)?;
        }
        return Ok(());
    }
    let round = per_round * threads;
    for (round_start, batch) in (0..).step_by(round).zip(items.chunks(round)) {
        let size = batch.len().div_ceil(threads);
        let buffers: Vec<std::io::Result<Vec<u8>>> = std::thread::scope(|scope| {
            let render_chunk = &render_chunk;
            let mut chunks = (round_start..).step_by(size).zip(batch.chunks(size));
            let first = chunks.next();
            let handles: Vec<_> = chunks
                .map(|(start, chunk)| scope.spawn(move || render_chunk(start, chunk)))
                .collect();
            let mut buffers = Vec::with_capacity(threads);
            if let Some((start, chunk)) = first {
                buffers.push(render_chunk(start, chunk));
            }
            buffers.extend(handles.into_iter().map(joined));
            buffers
        });
        for buffer in buffers {
            out.write_all(&buffer?)?;
        }
    }
    Ok(())
}

/// Fills a list of `items.len()` results on up to [`threads`] threads: `f` gets a contiguous
/// chunk of `items` and the slots of its results, each slot starting as `R::default()`. Unlike
/// [`map_chunks`], the results are written in place, so a large list is never held twice; the
/// first error (in item order) is returned.
pub fn try_fill_chunks<T, R, E, F>(items: &[T], f: F) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Default + Send,
    E: Send,
    F: Fn(&[T], &mut [R]) -> Result<(), E> + Sync,
{
    let mut out: Vec<R> = Vec::with_capacity(items.len());
    out.resize_with(items.len(), R::default);
    let threads = threads().min(items.len() / MIN_PER_THREAD).max(1);
    if threads == 1 {
        f(items, &mut out)?;
        return Ok(out);
    }
    let size = items.len().div_ceil(threads);
    let results: Vec<Result<(), E>> = std::thread::scope(|scope| {
        let f = &f;
        let mut chunks = items.chunks(size).zip(out.chunks_mut(size));
        let first = chunks.next();
        let handles: Vec<_> = chunks
            .map(|(items, slots)| scope.spawn(move || f(items, slots)))
            .collect();
        let mut results = vec![first.map_or(Ok(()), |(items, slots)| f(items, slots))];
        results.extend(handles.into_iter().map(joined));
        results
    });
    for result in results {
        result?;
    }
    Ok(out)
}

/// A scoped thread's result; its panic, if it panicked, goes on in the caller.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match handle.join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Appends `text` (pretty JSON written at depth 0) to `out` as it reads `depth` levels down in
/// a pretty-printed document (two spaces a level): JSON text holds no raw newline inside a
/// string, so every newline starts a line to indent.
pub fn push_indented_json(out: &mut Vec<u8>, text: &[u8], depth: usize) {
    let mut lines = text.split(|&b| b == b'\n');
    if let Some(first) = lines.next() {
        out.extend_from_slice(first);
    }
    for line in lines {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b' ', 2 * depth));
        out.extend_from_slice(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_item_order() {
        for n in [0, 1, 511, 512, 1024, 1025, 10_001] {
            let items: Vec<usize> = (0..n).collect();
            let squares = map(&items, |i| i * i);
            assert_eq!(squares, items.iter().map(|i| i * i).collect::<Vec<_>>());
        }
    }

    #[test]
    fn filled_slots_keep_the_item_order_and_the_first_error_wins() {
        for n in [0, 1, 1023, 1024, 5001] {
            let items: Vec<usize> = (0..n).collect();
            let filled = try_fill_chunks(&items, |chunk, slots: &mut [usize]| {
                for (item, slot) in chunk.iter().zip(slots) {
                    *slot = item * 3;
                }
                Ok::<(), usize>(())
            });
            assert_eq!(filled, Ok(items.iter().map(|i| i * 3).collect::<Vec<_>>()));
        }
        let items: Vec<usize> = (0..5000).collect();
        let failed = try_fill_chunks(&items, |chunk, _: &mut [usize]| {
            match chunk.iter().find(|i| **i % 1000 == 999) {
                Some(bad) => Err(*bad),
                None => Ok(()),
            }
        });
        assert_eq!(failed, Err(999));
    }

    #[test]
    fn written_items_keep_the_item_order() {
        for n in [0, 1, 600, 5000] {
            let items: Vec<usize> = (0..n).collect();
            let mut out = Vec::new();
            write_each(&items, &mut out, |i, item, buf| {
                assert_eq!(i, *item);
                buf.extend_from_slice(format!("{item},").as_bytes());
                Ok(())
            })
            .expect("writes");
            let want: String = items.iter().map(|i| format!("{i},")).collect();
            assert_eq!(String::from_utf8(out).expect("utf-8"), want);
        }
    }

    #[test]
    fn indented_json_reads_as_serde_writes_it_nested() {
        let inner = serde_json::json!({"a": [1, {"b": "x\ny"}], "c": {}});
        let outer = serde_json::json!({"list": [inner.clone()]});
        let mut element = Vec::new();
        push_indented_json(
            &mut element,
            &serde_json::to_vec_pretty(&inner).expect("json"),
            2,
        );
        let mut want = b"{\n  \"list\": [\n    ".to_vec();
        want.extend(element);
        want.extend(b"\n  ]\n}");
        assert_eq!(
            String::from_utf8(want).expect("utf-8"),
            serde_json::to_string_pretty(&outer).expect("json")
        );
    }
}
