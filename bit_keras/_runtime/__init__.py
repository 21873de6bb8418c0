"""Private plumbing every layer may use: atomic writes, Ctrl-C and SIGTERM as requests to stop
between steps, TensorFlow's log lines held back, the TensorFlow-backend check of training and
export, and the lazy namespaces. Not part of the public API: import from its modules."""
