//! An ID allocator: hands out small integers and maps each to a value, as
//! Linux's IDR does for PIDs (`struct pid`), device minors and the like.
//!
//! Linux: lib/idr.c (`idr_alloc`, `idr_alloc_cyclic`, `idr_find`,
//! `idr_remove`, `idr_get_cursor`), over lib/xarray.c. The course notes
//! describe the shape kept here: a radix tree whose nodes have 64 slots; the
//! ID's bits, six at a time from the top, choose the slot at each level, and
//! leaves hold the values. Each node keeps a bitmap of the slots that are
//! completely full (Linux: the XArray's `XA_FREE_MARK`, inverted), so the
//! lowest free ID at or above a point is found in one walk down the tree, in
//! O(log₆₄ n) node visits, without scanning.
//!
//! Why a tree rather than an array or a list: an array sized for `pid_max`
//! wastes memory when few IDs are in use, and a list is O(n) to search. The
//! tree grows upwards (a new root above the old one) when an ID beyond its
//! reach is needed, and frees nodes that become empty.
//!
//! Key type: [`Idr`]. Allocation of nodes is fallible ([`IdrError::NoMemory`]),
//! so a caller in the kernel turns exhaustion into `ENOMEM`, never a panic.
//!
//! Locking: none inside; the kernel keeps an `Idr` behind its own lock
//! (Linux: `pidmap_lock`), so `&mut Idr` is proof the lock is held.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;

/// Bits of the ID each tree level decodes (Linux: `XA_CHUNK_SHIFT`).
pub const IDR_BITS: u32 = 6;
/// Slots per node (Linux: `XA_CHUNK_SIZE`).
pub const IDR_SIZE: usize = 1 << IDR_BITS;
const IDR_MASK: u32 = (1 << IDR_BITS) - 1;
/// IDs are non-negative C `int`s, as in Linux: at most `i32::MAX`.
pub const IDR_MAX_END: u32 = 1 << 31;

/// Why an allocation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdrError {
    /// No free ID in the range (Linux: `-ENOSPC`; `alloc_pid` reports `EAGAIN`).
    NoSpace,
    /// A tree node could not be allocated (Linux: `-ENOMEM`).
    NoMemory,
}

enum Node<T> {
    /// The last level: values, and a bitmap of the slots in use.
    Leaf { slots: Vec<Option<T>>, used: u64 },
    /// An inner level: subtrees, and a bitmap of the subtrees that are full.
    Inner { children: Vec<Option<Node<T>>>, full: u64 },
}

/// The shape of an [`Idr`]'s tree, for debugging output (Linux prints
/// the nodes with `xa_dump`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdrShape {
    /// Levels from the root down to the leaves; 0 for an empty tree.
    pub layers: u32,
    /// Inner nodes and leaves allocated.
    pub inner_nodes: usize,
    pub leaves: usize,
}

/// A vector of `IDR_SIZE` empty slots, or `NoMemory`.
fn empty_slots<S>() -> Result<Vec<Option<S>>, IdrError> {
    let mut v = Vec::new();
    v.try_reserve_exact(IDR_SIZE).map_err(|_| IdrError::NoMemory)?;
    v.resize_with(IDR_SIZE, || None);
    Ok(v)
}

/// The slot index `id` takes in a node decoding bits `shift..shift + 6`.
fn slot(id: u32, shift: u32) -> usize {
    ((id >> shift) & IDR_MASK) as usize
}

impl<T> Node<T> {
    fn new(shift: u32) -> Result<Self, IdrError> {
        Ok(if shift == 0 {
            Node::Leaf { slots: empty_slots()?, used: 0 }
        } else {
            Node::Inner { children: empty_slots()?, full: 0 }
        })
    }

    fn is_full(&self) -> bool {
        match self {
            Node::Leaf { used, .. } => *used == u64::MAX,
            Node::Inner { full, .. } => *full == u64::MAX,
        }
    }

    /// Adds this subtree's nodes to `shape`.
    fn count_nodes(&self, shape: &mut IdrShape) {
        match self {
            Node::Leaf { .. } => shape.leaves += 1,
            Node::Inner { children, .. } => {
                shape.inner_nodes += 1;
                for child in children.iter().flatten() {
                    child.count_nodes(shape);
                }
            }
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Node::Leaf { used, .. } => *used == 0,
            Node::Inner { children, .. } => children.iter().all(Option::is_none),
        }
    }

    /// The lowest free ID at or above `start` in this node, which covers
    /// IDs from `base` and decodes bits `shift..shift + 6`.
    fn find_free(&self, shift: u32, base: u64, start: u64) -> Option<u64> {
        let first = if start > base { (start - base) >> shift } else { 0 };
        if first >= IDR_SIZE as u64 {
            return None;
        }
        match self {
            Node::Leaf { used, .. } => {
                let free = !*used & (u64::MAX << first);
                (free != 0).then(|| base + u64::from(free.trailing_zeros()))
            }
            Node::Inner { children, full } => (0..IDR_SIZE)
                .zip(0u64..)
                .skip_while(|&(_, i)| i < first)
                .filter(|&(_, i)| full & (1 << i) == 0)
                .find_map(|(idx, i)| {
                    let child_base = base + (i << shift);
                    let from = start.max(child_base);
                    match &children[idx] {
                        None => Some(from),
                        Some(child) => child.find_free(shift - IDR_BITS, child_base, from),
                    }
                }),
        }
    }

    /// Stores `value` at `id`; returns whether this node is now full.
    fn insert(&mut self, shift: u32, id: u32, value: T) -> Result<bool, IdrError> {
        let i = slot(id, shift);
        match self {
            Node::Leaf { slots, used } => {
                slots[i] = Some(value);
                *used |= 1 << i;
            }
            Node::Inner { children, full } => {
                let child = match &mut children[i] {
                    Some(child) => child,
                    empty @ None => empty.insert(Node::new(shift - IDR_BITS)?),
                };
                if child.insert(shift - IDR_BITS, id, value)? {
                    *full |= 1 << i;
                }
            }
        }
        Ok(self.is_full())
    }

    fn find(&self, shift: u32, id: u32) -> Option<&T> {
        match self {
            Node::Leaf { slots, .. } => slots[slot(id, shift)].as_ref(),
            Node::Inner { children, .. } => {
                children[slot(id, shift)].as_ref()?.find(shift - IDR_BITS, id)
            }
        }
    }

    fn find_mut(&mut self, shift: u32, id: u32) -> Option<&mut T> {
        match self {
            Node::Leaf { slots, .. } => slots[slot(id, shift)].as_mut(),
            Node::Inner { children, .. } => {
                children[slot(id, shift)].as_mut()?.find_mut(shift - IDR_BITS, id)
            }
        }
    }

    /// Takes the value at `id` out, freeing subtrees that become empty.
    fn remove(&mut self, shift: u32, id: u32) -> Option<T> {
        let i = slot(id, shift);
        match self {
            Node::Leaf { slots, used } => {
                *used &= !(1 << i);
                slots[i].take()
            }
            Node::Inner { children, full } => {
                let child = children[i].as_mut()?;
                let value = child.remove(shift - IDR_BITS, id);
                *full &= !(1 << i);
                if child.is_empty() {
                    children[i] = None;
                }
                value
            }
        }
    }
}

/// An ID-to-value map that allocates the IDs (Linux: `struct idr`).
pub struct Idr<T> {
    root: Option<Node<T>>,
    /// Bits below the root's slot index: 0 when the root is a leaf.
    shift: u32,
    /// Where the next cyclic allocation starts (Linux: `idr_next`).
    cursor: u32,
    count: usize,
}

impl<T> Default for Idr<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Idr<T> {
    /// An empty IDR (Linux: `idr_init`).
    pub const fn new() -> Self {
        Self { root: None, shift: 0, cursor: 0, count: 0 }
    }

    /// How many IDs are allocated.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no ID is allocated.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// One past the largest ID the current tree can hold.
    fn capacity(&self) -> u64 {
        1u64 << (self.shift + IDR_BITS)
    }

    /// The lowest free ID in `[start, end)`, if any.
    fn find_free(&self, start: u32, end: u32) -> Option<u32> {
        let start = u64::from(start);
        let id = match &self.root {
            None => start,
            Some(root) => {
                root.find_free(self.shift, 0, start).unwrap_or(start.max(self.capacity()))
            }
        };
        u32::try_from(id).ok().filter(|&id| id < end.min(IDR_MAX_END))
    }

    /// Adds levels above the root until `id` is within reach.
    fn grow(&mut self, id: u32) -> Result<(), IdrError> {
        while u64::from(id) >= self.capacity() {
            let mut root = Node::new(self.shift + IDR_BITS)?;
            if let (Node::Inner { children, full }, Some(old)) = (&mut root, self.root.take()) {
                if old.is_full() {
                    *full |= 1;
                }
                children[0] = Some(old);
            }
            self.root = Some(root);
            self.shift += IDR_BITS;
        }
        Ok(())
    }

    fn insert(&mut self, id: u32, value: T) -> Result<(), IdrError> {
        if self.root.is_none() {
            self.shift = 0;
            while u64::from(id) >= self.capacity() {
                self.shift += IDR_BITS;
            }
        }
        self.grow(id)?;
        let root = match &mut self.root {
            Some(root) => root,
            empty @ None => empty.insert(Node::new(self.shift)?),
        };
        root.insert(self.shift, id, value)?;
        self.count += 1;
        Ok(())
    }

    /// Allocates the lowest free ID in `[start, end)` for `value` (Linux:
    /// `idr_alloc`). `end` is clamped to [`IDR_MAX_END`].
    pub fn alloc(&mut self, value: T, start: u32, end: u32) -> Result<u32, IdrError> {
        let id = self.find_free(start, end).ok_or(IdrError::NoSpace)?;
        self.insert(id, value)?;
        Ok(id)
    }

    /// Allocates the lowest free ID at or above the cursor, wrapping round
    /// to `start` when none is free up to `end`, and moves the cursor past
    /// it (Linux: `idr_alloc_cyclic`). So a freed ID comes back only once
    /// the cursor has wrapped, which keeps PIDs from being reused at once.
    pub fn alloc_cyclic(&mut self, value: T, start: u32, end: u32) -> Result<u32, IdrError> {
        let from = start.max(self.cursor);
        let id = self
            .find_free(from, end)
            .or_else(|| if from > start { self.find_free(start, end) } else { None })
            .ok_or(IdrError::NoSpace)?;
        self.insert(id, value)?;
        self.cursor = id.wrapping_add(1);
        Ok(id)
    }

    /// The value at `id` (Linux: `idr_find`).
    pub fn find(&self, id: u32) -> Option<&T> {
        if u64::from(id) >= self.capacity() {
            return None;
        }
        self.root.as_ref()?.find(self.shift, id)
    }

    /// Frees `id` and returns its value (Linux: `idr_remove`).
    pub fn remove(&mut self, id: u32) -> Option<T> {
        if u64::from(id) >= self.capacity() {
            return None;
        }
        let value = self.root.as_mut()?.remove(self.shift, id);
        if value.is_some() {
            self.count -= 1;
        }
        if self.root.as_ref().is_some_and(Node::is_empty) {
            self.root = None;
        }
        value
    }

    /// Replaces the value at an allocated `id`, returning the old one
    /// (Linux: `idr_replace`); `Err(value)` if `id` is not allocated.
    pub fn replace(&mut self, id: u32, value: T) -> Result<T, T> {
        if u64::from(id) >= self.capacity() {
            return Err(value);
        }
        let shift = self.shift;
        match self.root.as_mut().and_then(|root| root.find_mut(shift, id)) {
            Some(slot) => Ok(core::mem::replace(slot, value)),
            None => Err(value),
        }
    }

    /// The tree's levels and nodes; `len() / (leaves * IDR_SIZE)` is how
    /// full its leaves are.
    pub fn shape(&self) -> IdrShape {
        let mut shape = IdrShape::default();
        if let Some(root) = &self.root {
            shape.layers = self.shift / IDR_BITS + 1;
            root.count_nodes(&mut shape);
        }
        shape
    }

    /// Where the next cyclic allocation starts (Linux: `idr_get_cursor`).
    pub fn cursor(&self) -> u32 {
        self.cursor
    }

    /// Moves the cyclic cursor (Linux: `idr_set_cursor`).
    pub fn set_cursor(&mut self, cursor: u32) {
        self.cursor = cursor;
    }
}

#[cfg(test)]
mod tests;
