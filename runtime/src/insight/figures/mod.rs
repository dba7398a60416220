//! The report's figures: every number, name and edge as the text report prints them,
//! shared by the report, the analyses' messages, the progress lines and the page — so
//! that the page shows the report's figures to the digit, from one definition.

pub(crate) mod diagram;
pub(crate) mod names;
pub(crate) mod operator_row;
pub(crate) mod units;
