"""Order pages: one order (`detail`) and the orders list (`lists`)."""
