//! The order in which libgit2 walks a history sorted by time (`GIT_SORT_TIME`), computed on a
//! commit graph relkit has read with the git CLI.
//!
//! The git-cliff CLI walks with libgit2 and, when `topo_order_commits = false`, asks for
//! `GIT_SORT_TIME` alone. That order is not `git log --date-order`: libgit2 takes every commit of
//! the walk (its "limited" walk, which `GIT_SORT_TIME` always turns on) and then pops them from a
//! binary heap keyed only on committer time. A parent can therefore come before its child when
//! clocks are skewed, and commits of equal time come out in whatever order the heap's sifting
//! leaves them, which depends on the order they went in. To render what the CLI renders, this
//! module replays libgit2's walk step by step: the same lists, the same flags, the same heap.
//!
//! It follows libgit2 1.9.7, the version vendored by libgit2-sys 0.18.8+1.9.7, which git2 0.21.0
//! and so git-cliff 2.14.2 build on:
//! - `src/libgit2/revwalk.c`: `git_revwalk__push_commit` (hidden commits and pushes go to the
//!   front of the input list; a push of an already hidden commit is ignored), `prepare_walk`,
//!   `limit_list` with `add_parents_to_list`, `mark_parents_uninteresting` and
//!   `still_interesting` (the `SLOP` of five uninteresting commits), and
//!   `revwalk_next_timesort`, which skips commits found uninteresting after they were queued;
//! - `src/libgit2/commit_list.c`: `git_commit_list_time_cmp` (newer first, equal times compare
//!   equal) and `git_commit_list_insert_by_date` (before the first strictly older entry);
//! - `src/util/pqueue.c`: `pqueue_up`, `pqueue_down` and `git_pqueue_pop`, whose sift rules
//!   (stop on "not greater", prefer the right child only when the left is strictly older) decide
//!   the order of equal times.
//!
//! libgit2 reads a commit's parents only when it first needs them ("parses" it), and how far it
//! marks commits uninteresting depends on which commits it has parsed; the replay keeps that
//! state too, so it asks for exactly the commits libgit2 reads. The one place where libgit2 does
//! work that only grows with the history, scanning its date list in `still_interesting`, is
//! answered here from counters, and the date list is kept in ordered maps, so the whole walk
//! stays O(n log n).

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// What the walk reads of a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkCommit<'a> {
    /// The committer time, in seconds since the epoch.
    pub time: i64,
    /// The parents' full ids, in the commit's order.
    pub parents: &'a [String],
}

/// The walk needed a commit that the lookup did not know: the caller can read more of the
/// history and walk again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the walk reached commit {0}, which was not read")]
pub struct UnknownCommit(pub String);

/// libgit2's `GIT_SORT_TIME` walk from `starts`, hiding `hidden` and everything they reach, as
/// the ids in the order libgit2 yields them.
///
/// The commits are pushed as git-cliff pushes a range `A..B` (`git_revwalk_push_range`): the
/// hidden ones first, then the starts. `lookup` gives the time and parents of a commit by full
/// id; for a walk that hides commits it must also know the hidden commits libgit2 reads, which
/// are all reachable from `hidden`.
pub fn libgit2_time_order<'a>(
    lookup: impl Fn(&str) -> Option<WalkCommit<'a>>,
    starts: &[&'a str],
    hidden: &[&'a str],
) -> Result<Vec<&'a str>, UnknownCommit> {
    let mut walk = Walk {
        lookup,
        ids: Vec::new(),
        index: HashMap::new(),
        nodes: Vec::new(),
        list: DateList::default(),
        pending: Vec::new(),
    };
    let order = walk.run(starts, hidden)?;
    Ok(order.into_iter().map(|i| walk.ids[i]).collect())
}

/// How many uninteresting commits libgit2 looks at after it runs out of interesting ones.
const SLOP: u32 = 5;

/// libgit2's `git_commit_list_node`, less what a time sort never reads.
#[derive(Debug)]
struct Node {
    time: i64,
    /// `None` until the commit is parsed.
    parents: Option<Vec<usize>>,
    seen: bool,
    added: bool,
    uninteresting: bool,
    /// How many entries of the date list hold this commit (libgit2 can queue a commit twice).
    queued: u32,
}

struct Walk<'a, F> {
    lookup: F,
    ids: Vec<&'a str>,
    index: HashMap<&'a str, usize>,
    nodes: Vec<Node>,
    list: DateList,
    /// Scratch space of `mark_parents_uninteresting`.
    pending: Vec<usize>,
}

impl<'a, F> Walk<'a, F>
where
    F: Fn(&str) -> Option<WalkCommit<'a>>,
{
    /// `git_revwalk__push_commit` for each input, then `prepare_walk` and the time-sorted
    /// iteration.
    fn run(&mut self, starts: &[&'a str], hidden: &[&'a str]) -> Result<Vec<usize>, UnknownCommit> {
        let mut input = Vec::with_capacity(starts.len() + hidden.len());
        for &id in hidden {
            let node = self.node(id);
            if !self.nodes[node].uninteresting {
                self.set_uninteresting(node);
                input.push(node);
            }
        }
        let mut pushed = false;
        for &id in starts {
            let node = self.node(id);
            if !self.nodes[node].uninteresting {
                pushed = true;
                input.push(node);
            }
        }
        if !pushed {
            return Ok(Vec::new());
        }

        // Each push went to the front of libgit2's input list: it is read newest push first.
        let mut commits = Vec::with_capacity(input.len());
        for &node in input.iter().rev() {
            self.parse(node)?;
            if self.nodes[node].uninteresting {
                self.mark_parents_uninteresting(node);
            }
            if !self.nodes[node].seen {
                self.nodes[node].seen = true;
                commits.push(node);
            }
        }

        let limited = self.limit_list(&commits)?;
        let mut heap = TimeHeap::default();
        for node in limited {
            heap.insert(node, self.nodes[node].time);
        }
        let mut order = Vec::with_capacity(heap.items.len());
        while let Some(node) = heap.pop() {
            if !self.nodes[node].uninteresting {
                order.push(node);
            }
        }
        Ok(order)
    }

    /// `git_revwalk__commit_lookup`: the node of `id`, made unparsed on first sight.
    fn node(&mut self, id: &'a str) -> usize {
        if let Some(&node) = self.index.get(id) {
            return node;
        }
        let node = self.nodes.len();
        self.nodes.push(Node {
            time: 0,
            parents: None,
            seen: false,
            added: false,
            uninteresting: false,
            queued: 0,
        });
        self.ids.push(id);
        self.index.insert(id, node);
        node
    }

    /// `git_commit_list_parse`: reads the commit's time and parents once.
    fn parse(&mut self, node: usize) -> Result<(), UnknownCommit> {
        if self.nodes[node].parents.is_some() {
            return Ok(());
        }
        let id = self.ids[node];
        let commit = (self.lookup)(id).ok_or_else(|| UnknownCommit(id.to_owned()))?;
        let parents = commit
            .parents
            .iter()
            .map(|parent| self.node(parent))
            .collect();
        self.nodes[node].time = commit.time;
        self.nodes[node].parents = Some(parents);
        Ok(())
    }

    fn parents(&self, node: usize) -> &[usize] {
        self.nodes[node].parents.as_deref().unwrap_or_default()
    }

    fn set_uninteresting(&mut self, node: usize) {
        let node = &mut self.nodes[node];
        if !node.uninteresting {
            node.uninteresting = true;
            self.list.interesting -= node.queued as usize;
        }
    }

    /// Marks the parents uninteresting, and their parents for as long as libgit2 has parsed
    /// them, stopping at commits already uninteresting.
    fn mark_parents_uninteresting(&mut self, node: usize) {
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(self.parents(node));
        while let Some(node) = pending.pop() {
            if self.nodes[node].uninteresting {
                continue;
            }
            self.set_uninteresting(node);
            pending.extend_from_slice(self.parents(node));
        }
        self.pending = pending;
    }

    /// `add_parents_to_list`: queues the parents of a commit by date, once per commit.
    fn add_parents_to_list(&mut self, node: usize) -> Result<(), UnknownCommit> {
        if self.nodes[node].added {
            return Ok(());
        }
        self.nodes[node].added = true;
        let count = self.parents(node).len();
        if self.nodes[node].uninteresting {
            // Queued even when seen before: libgit2 wants every uninteresting path.
            for k in 0..count {
                let parent = self.parents(node)[k];
                self.set_uninteresting(parent);
                self.parse(parent)?;
                self.mark_parents_uninteresting(parent);
                self.nodes[parent].seen = true;
                self.insert_by_date(parent);
            }
            return Ok(());
        }
        for k in 0..count {
            let parent = self.parents(node)[k];
            self.parse(parent)?;
            if !self.nodes[parent].seen {
                self.nodes[parent].seen = true;
                self.insert_by_date(parent);
            }
        }
        Ok(())
    }

    /// `limit_list`: walks from the inputs in date order until only uninteresting commits are
    /// left and `SLOP` of them have been looked at, and returns the interesting commits in the
    /// order they were reached.
    fn limit_list(&mut self, commits: &[usize]) -> Result<Vec<usize>, UnknownCommit> {
        // The inputs keep their order; only commits queued later are placed by date.
        for &node in commits {
            self.append(node);
        }
        let mut slop = SLOP;
        let mut time = i64::MAX;
        let mut limited = Vec::new();
        while let Some(node) = self.pop() {
            self.add_parents_to_list(node)?;
            if self.nodes[node].uninteresting {
                self.mark_parents_uninteresting(node);
                slop = self.still_interesting(time, slop);
                if slop == 0 {
                    break;
                }
                continue;
            }
            time = self.nodes[node].time;
            limited.push(node);
        }
        self.list = DateList::default();
        Ok(limited)
    }

    /// `still_interesting`: the slop left after an uninteresting commit, given the time of the
    /// last interesting one.
    fn still_interesting(&self, time: i64, slop: u32) -> u32 {
        let (Some(head), Some(newest)) = (self.list.head_time(), self.list.newest_time()) else {
            return 0;
        };
        if time <= head || self.list.interesting > 0 || newest > time {
            SLOP
        } else {
            slop - 1
        }
    }

    fn append(&mut self, node: usize) {
        self.count_in(node);
        let time = self.nodes[node].time;
        self.list.append(node, time);
    }

    fn insert_by_date(&mut self, node: usize) {
        self.count_in(node);
        let time = self.nodes[node].time;
        self.list.insert_by_date(node, time);
    }

    fn pop(&mut self) -> Option<usize> {
        let node = self.list.pop()?;
        let entry = &mut self.nodes[node];
        entry.queued -= 1;
        if !entry.uninteresting {
            self.list.interesting -= 1;
        }
        Some(node)
    }

    fn count_in(&mut self, node: usize) {
        let entry = &mut self.nodes[node];
        entry.queued += 1;
        if !entry.uninteresting {
            self.list.interesting += 1;
        }
    }
}

/// libgit2's date-ordered linked list of commits to visit, as a few runs sorted newest first.
///
/// `git_commit_list_insert_by_date` puts a commit before the first entry strictly older than it,
/// scanning from the front. The list starts as the walk's inputs in push order, which need not
/// be sorted; everything inserted later lands inside a run that stays sorted. So the list is
/// always a concatenation of sorted runs (as many as there are unsorted inputs at most), and an
/// insertion goes into the first run whose oldest entry is older than the commit, or at the end.
/// Within a run, entries are keyed on (newest first, then insertion order), which puts a commit
/// after the entries of its own time, as libgit2 does.
#[derive(Debug, Default)]
struct DateList {
    runs: VecDeque<BTreeMap<(Reverse<i64>, u64), usize>>,
    next: u64,
    /// Entries whose commit is not uninteresting (kept by [`Walk`]).
    interesting: usize,
}

impl DateList {
    fn key(&mut self, time: i64) -> (Reverse<i64>, u64) {
        self.next += 1;
        (Reverse(time), self.next)
    }

    fn oldest(run: &BTreeMap<(Reverse<i64>, u64), usize>) -> Option<i64> {
        run.last_key_value().map(|((Reverse(time), _), _)| *time)
    }

    /// Adds an entry at the end of the list.
    fn append(&mut self, node: usize, time: i64) {
        let key = self.key(time);
        match self.runs.back_mut() {
            Some(run) if Self::oldest(run).is_some_and(|oldest| oldest >= time) => {
                run.insert(key, node);
            }
            _ => self.runs.push_back(BTreeMap::from([(key, node)])),
        }
    }

    fn insert_by_date(&mut self, node: usize, time: i64) {
        let key = self.key(time);
        let run = self
            .runs
            .iter()
            .position(|run| Self::oldest(run).is_some_and(|oldest| oldest < time))
            .or_else(|| self.runs.len().checked_sub(1));
        match run {
            Some(run) => {
                self.runs[run].insert(key, node);
            }
            None => self.runs.push_back(BTreeMap::from([(key, node)])),
        }
    }

    fn pop(&mut self) -> Option<usize> {
        let run = self.runs.front_mut()?;
        let (_, node) = run.pop_first()?;
        if run.is_empty() {
            self.runs.pop_front();
        }
        Some(node)
    }

    fn head_time(&self) -> Option<i64> {
        let ((Reverse(time), _), _) = self.runs.front()?.first_key_value()?;
        Some(*time)
    }

    fn newest_time(&self) -> Option<i64> {
        self.runs
            .iter()
            .filter_map(|run| run.first_key_value().map(|((Reverse(time), _), _)| *time))
            .max()
    }
}

/// libgit2's `git_pqueue` with `git_commit_list_time_cmp`: a binary min-heap in which "less" is
/// "newer", so the newest commit is on top. Entries carry their time to spare a lookup per
/// comparison.
#[derive(Debug, Default)]
struct TimeHeap {
    items: Vec<(i64, usize)>,
}

impl TimeHeap {
    /// `git_commit_list_time_cmp(a, b)`: `Greater` when `a` is older than `b`.
    fn cmp(a: (i64, usize), b: (i64, usize)) -> Ordering {
        b.0.cmp(&a.0)
    }

    /// `git_pqueue_insert`: appends, then `pqueue_up`.
    fn insert(&mut self, node: usize, time: i64) {
        let kid = (time, node);
        self.items.push(kid);
        let mut at = self.items.len() - 1;
        while at > 0 {
            let parent_at = (at - 1) / 2;
            let parent = self.items[parent_at];
            if Self::cmp(parent, kid) != Ordering::Greater {
                break;
            }
            self.items[at] = parent;
            at = parent_at;
        }
        self.items[at] = kid;
    }

    /// `git_pqueue_pop`: takes the top, moves the last entry there, then `pqueue_down`.
    fn pop(&mut self) -> Option<usize> {
        let top = *self.items.first()?;
        let last = self.items.pop()?;
        if self.items.is_empty() {
            return Some(top.1);
        }
        let mut at = 0;
        loop {
            let mut kid_at = 2 * at + 1;
            let Some(&left) = self.items.get(kid_at) else {
                break;
            };
            let mut kid = left;
            if let Some(&right) = self.items.get(kid_at + 1)
                && Self::cmp(left, right) == Ordering::Greater
            {
                kid = right;
                kid_at += 1;
            }
            if Self::cmp(last, kid) != Ordering::Greater {
                break;
            }
            self.items[at] = kid;
            at = kid_at;
        }
        self.items[at] = last;
        Some(top.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph written as `(id, time, parents)`.
    struct Graph(Vec<(&'static str, i64, Vec<String>)>);

    impl Graph {
        fn new(commits: &[(&'static str, i64, &[&str])]) -> Self {
            Self(
                commits
                    .iter()
                    .map(|(id, time, parents)| {
                        (
                            *id,
                            *time,
                            parents.iter().map(|p| (*p).to_owned()).collect(),
                        )
                    })
                    .collect(),
            )
        }

        fn order(&self, starts: &[&'static str], hidden: &[&'static str]) -> Vec<&str> {
            self.try_order(starts, hidden)
                .expect("every commit is known")
        }

        fn try_order(
            &self,
            starts: &[&'static str],
            hidden: &[&'static str],
        ) -> Result<Vec<&str>, UnknownCommit> {
            libgit2_time_order(
                |id| {
                    self.0
                        .iter()
                        .find(|(c, _, _)| *c == id)
                        .map(|(_, time, parents)| WalkCommit {
                            time: *time,
                            parents,
                        })
                },
                starts,
                hidden,
            )
        }
    }

    #[test]
    fn a_straight_history_comes_out_newest_first() {
        let graph = Graph::new(&[("c", 30, &["b"]), ("b", 20, &["a"]), ("a", 10, &[])]);
        assert_eq!(graph.order(&["c"], &[]), ["c", "b", "a"]);
    }

    #[test]
    fn a_parent_with_a_later_clock_comes_before_its_child() {
        // git log --date-order would never show b before c.
        let graph = Graph::new(&[("c", 10, &["b"]), ("b", 50, &["a"]), ("a", 5, &[])]);
        assert_eq!(graph.order(&["c"], &[]), ["b", "c", "a"]);
    }

    #[test]
    fn equal_times_come_out_as_the_heap_leaves_them() {
        // All five at one time: the heap's sifting, not the graph, decides. libgit2 queues
        // e, d, c, b, a; popping e moves the last entry, a, to the top, where it stays because
        // nothing below is strictly newer.
        let graph = Graph::new(&[
            ("e", 7, &["d"]),
            ("d", 7, &["c"]),
            ("c", 7, &["b"]),
            ("b", 7, &["a"]),
            ("a", 7, &[]),
        ]);
        assert_eq!(graph.order(&["e"], &[]), ["e", "a", "b", "c", "d"]);
    }

    #[test]
    fn branches_of_a_merge_interleave_by_time() {
        let graph = Graph::new(&[
            ("m", 60, &["y", "x"]),
            ("y", 50, &["b"]),
            ("x", 40, &["a"]),
            ("b", 30, &["root"]),
            ("a", 20, &["root"]),
            ("root", 10, &[]),
        ]);
        assert_eq!(graph.order(&["m"], &[]), ["m", "y", "x", "b", "a", "root"]);
    }

    #[test]
    fn a_merge_with_equal_times_follows_the_heap_not_the_parents() {
        let graph = Graph::new(&[
            ("m", 9, &["p1", "p2"]),
            ("p1", 9, &["base"]),
            ("p2", 9, &["base"]),
            ("base", 9, &[]),
        ]);
        // Queued m, p1, p2, base; popping m moves base to the top, popping base moves p2 there.
        assert_eq!(graph.order(&["m"], &[]), ["m", "base", "p2", "p1"]);
    }

    #[test]
    fn a_range_leaves_out_what_the_hidden_commit_reaches() {
        let graph = Graph::new(&[
            ("d", 40, &["c"]),
            ("c", 30, &["b"]),
            ("b", 20, &["a"]),
            ("a", 10, &[]),
        ]);
        assert_eq!(graph.order(&["d"], &["b"]), ["d", "c"]);
    }

    #[test]
    fn a_range_walks_a_merged_branch_back_to_the_hidden_history() {
        let graph = Graph::new(&[
            ("m", 60, &["t", "f"]),
            ("f", 50, &["x"]),
            ("t", 40, &["x"]),
            ("x", 30, &["root"]),
            ("root", 10, &[]),
        ]);
        assert_eq!(graph.order(&["m"], &["t"]), ["m", "f"]);
    }

    #[test]
    fn a_skewed_hidden_branch_lets_libgit2_stop_before_it_marks_everything() {
        // The hidden tip h reaches s only through commits whose clocks are far behind s, so
        // libgit2 runs out of slop before it learns that s is hidden too, and shows it. Two
        // commits fewer on the way and it would find out.
        let graph = Graph::new(&[
            ("t", 100, &["s"]),
            ("h", 95, &["o1"]),
            ("o1", 16, &["o2"]),
            ("o2", 15, &["o3"]),
            ("o3", 14, &["o4"]),
            ("o4", 13, &["o5"]),
            ("o5", 12, &["o6"]),
            ("o6", 11, &["o7"]),
            ("o7", 10, &["s"]),
            ("s", 50, &[]),
        ]);
        assert_eq!(graph.order(&["t"], &["h"]), ["t", "s"]);
    }

    #[test]
    fn a_range_whose_start_is_older_than_its_hidden_end_shows_the_start() {
        // git-cliff hides the older end of a range before it pushes the newer one, and libgit2
        // reads the start first even when its clock says it is older than the hidden commit.
        let graph = Graph::new(&[("t", 10, &["a"]), ("h", 90, &["a"]), ("a", 5, &[])]);
        assert_eq!(graph.order(&["t"], &["h"]), ["t"]);
    }

    #[test]
    fn a_start_that_is_also_hidden_walks_nothing() {
        let graph = Graph::new(&[("b", 20, &["a"]), ("a", 10, &[])]);
        assert_eq!(graph.order(&["b"], &["b"]), Vec::<&str>::new());
    }

    #[test]
    fn a_commit_the_lookup_does_not_know_is_named() {
        let graph = Graph::new(&[("b", 20, &["a"])]);
        assert_eq!(
            graph.try_order(&["b"], &[]),
            Err(UnknownCommit("a".to_owned()))
        );
    }

    #[test]
    fn the_date_list_inserts_after_equal_times_and_before_older_ones() {
        let mut list = DateList::default();
        list.append(0, 10);
        list.insert_by_date(1, 10);
        list.insert_by_date(2, 20);
        list.insert_by_date(3, 5);
        list.insert_by_date(4, 10);
        let order: Vec<usize> = std::iter::from_fn(|| list.pop()).collect();
        assert_eq!(order, [2, 0, 1, 4, 3]);
    }

    #[test]
    fn the_date_list_keeps_unsorted_inputs_where_they_were_pushed() {
        // Inputs 10 then 90 (unsorted). A 50 goes before the first entry older than it: the 10.
        let mut list = DateList::default();
        list.append(0, 10);
        list.append(1, 90);
        list.insert_by_date(2, 50);
        list.insert_by_date(3, 5);
        list.insert_by_date(4, 95);
        let order: Vec<usize> = std::iter::from_fn(|| list.pop()).collect();
        assert_eq!(order, [4, 2, 0, 1, 3]);
    }
}
