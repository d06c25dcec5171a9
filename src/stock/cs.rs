//! The controlled-substance perpetual inventory.
