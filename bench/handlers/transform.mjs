// The JSON transform case in JavaScript both engines run as is (njs 0.7.9 too), so the njs
// handlers (njs.js), the node_content handlers and the sidecar run one and the same code.

/** The JSON transform: keep, rename and compute fields of an order; drop internal ones. */
function transformOrder(text) {
    const order = JSON.parse(text);
    let total = 0;
    const lines = [];
    for (let i = 0; i < order.items.length; i++) {
        const item = order.items[i];
        if (item.qty <= 0) continue;
        const amount = Math.round(item.qty * item.unitPrice * 100) / 100;
        total += amount;
        lines.push({ sku: item.sku, name: item.name, quantity: item.qty, amount });
    }
    return JSON.stringify({
        id: order.orderId,
        customer: { id: order.customer.id, name: order.customer.name },
        shipTo: `${order.shipping.city}, ${order.shipping.country}`,
        lines,
        total: Math.round(total * 100) / 100,
        currency: order.currency,
    });
}

export default { transformOrder };
