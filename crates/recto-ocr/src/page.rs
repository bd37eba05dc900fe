//! The page JSON types, from `recto-page` (which has no native
//! dependencies), re-exported where the engine writes them.

pub use recto_page::*;
