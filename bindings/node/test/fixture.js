// A small network for the tests: two dealers, a customer of each, a vehicle each, service
// visits, a club member with points.
'use strict';
const { Database, date, localTime } = require('..');

/** A VIN with a valid check digit (ISO 3779) from 16 characters (position 9 is computed). */
function vin(seed) {
  const values = { A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8, J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9, S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9 };
  const weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
  const body = `LSVAU218 N2${String(seed).padStart(6, '0')}`.replace(' ', '0');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const ch = body[i];
    const v = /[0-9]/.test(ch) ? Number(ch) : values[ch];
    sum += v * weights[i];
  }
  const check = sum % 11 === 10 ? 'X' : String(sum % 11);
  return body.slice(0, 8) + check + body.slice(9);
}

/** A national ID (GB 11643) with a valid check digit from its first 17 digits. */
function nationalId(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * w[i];
  return first17 + '10X98765432'[sum % 11];
}

function build(db = Database.inMemory()) {
  const ids = db.write((tx) => {
    const d1 = tx.insertDealer({ code: 'SH0001', name: '上海浦东店', region: 'East', province: '上海', city: '上海' });
    const d2 = tx.insertDealer({ code: 'BJ0001', name: '北京朝阳店', region: 'North', province: '北京', city: '北京' });
    const wang = tx.insertCustomer({
      name: '王小明', phones: ['13800138000'], nationalId: nationalId('11010119900307457'),
      province: '上海', city: '上海', address: '浦东新区世纪大道100号', gender: 'male',
      birthDate: date(1990, 3, 7),
    });
    const li = tx.insertCustomer({ name: '李华', phones: ['13900139000'], province: '北京', city: '北京' });
    const v1 = tx.insertVehicle({
      vin: vin(183294), brand: 'Volkswagen', model: 'Passat', plate: '沪A12345',
      purchaseDate: date(2023, 4, 1), owner: wang, sellingDealer: d1,
    });
    const v2 = tx.insertVehicle({
      vin: vin(183295), brand: 'Volkswagen', model: 'Tiguan', plate: '京B67890',
      purchaseDate: date(2023, 5, 1), owner: li, sellingDealer: d2,
    });
    tx.setLoyaltyConfig();
    tx.joinBrandClub(wang, date(2024, 1, 1));
    const t1 = tx.insertTouchpoint({
      at: localTime(2025, 3, 1, 9, 30), customer: wang, vehicle: v1, dealer: d1,
      channel: 'showroom', kind: 'service_visit', serviceKind: 'maintenance', amount: 1200, partsAmount: 1000, labourAmount: 200, mileageKm: 15000,
    });
    tx.insertTouchpoint({
      at: localTime(2025, 4, 1, 10, 0), customer: li, vehicle: v2, dealer: d2,
      channel: 'showroom', kind: 'service_visit', serviceKind: 'maintenance', amount: '800.50',
    });
    return { d1, d2, wang, li, v1, v2, t1 };
  });
  return { db, ...ids };
}

module.exports = { build, vin, nationalId };
