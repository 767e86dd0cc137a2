//! The storage contract suite. (Being written: see the helper task.)
