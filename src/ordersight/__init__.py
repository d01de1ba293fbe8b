"""ordersight: the order and sales back office for online sellers."""
