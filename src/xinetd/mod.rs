//! The super-server (`xinetd`): configuration, access control, limits, the spawn
//! plan, internal services, log formats and the supervisor loop.
//! Filled in by the xinetd issue; the foundation only reserves the place.
