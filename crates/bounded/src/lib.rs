//! Queues, rings and maps bounded in items and in bytes, with counted overflow.
